//===- OptimizerStepTest.cpp - SGD updates run on the interpreter ---------===//
///
/// \file
/// The update nodes that differentiate(g, &opt) appends, executed by the
/// interpreter, against PyTorch's rules (SGD with momentum, nesterov and
/// weight decay, Adam, AdamW) applied by hand to gradients taken by central
/// differences; the fused update ops compute what the unfused graph does.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "passes/Autodiff.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

/// A 3-input neuron with bce_logits over a batch of 4, shapes inferred.
struct Neuron {
  Graph g;
  ValueMap leaves;
  Neuron() {
    NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 3}));
    NodeId y = leaf(g, OpKind::Label, "y", f32({kBatch}));
    NodeId w = leaf(g, OpKind::Param, "w", f32({3}));
    NodeId b = leaf(g, OpKind::Param, "b", TensorType::scalar());
    NodeId z = op(g, OpKind::Add, {op(g, OpKind::MatMul, {x, w}), b});
    g.outputs.push_back({"loss", op(g, OpKind::BceLogits, {z, y})});
    DiagEngine d;
    g = inferShapes(g, d);
    leaves = {{"x", val({4, 3}, randomValues(12, -2, 2, 7))},
              {"y", val({4}, {1, 0, 0, 1})},
              {"w", val({3}, {0.3, -0.2, 0.5})},
              {"b", Value::scalar(0.1)}};
  }
  /// dL/d(param[i]) by central differences.
  double numericGrad(const std::string &param, size_t i) const {
    Interpreter in(g);
    NodeId loss = *g.output("loss");
    ValueMap l = leaves;
    double x = l[param].data[i], eps = 1e-6;
    l[param].data[i] = x + eps;
    double up = in.run(l)[loss].data[0];
    l[param].data[i] = x - eps;
    double down = in.run(l)[loss].data[0];
    return (up - down) / (2 * eps);
  }
};

} // namespace

TEST(OptimizerStep, PlainSgd) {
  Neuron n;
  OptimizerSpec opt;
  opt.lr = 0.1;
  Graph step = differentiate(n.g, &opt);
  // No state but the lr, a scalar leaf the trainer writes before each step.
  ASSERT_EQ(step.leaves(OpKind::State).size(), 1u);
  ValueMap l = n.leaves;
  l["optimizer.lr"] = Value::scalar(0.1);
  Interpreter::Result r = Interpreter(step).step(l);
  ASSERT_EQ(r.updates.size(), 2u);
  for (const std::string p : {"w", "b"}) {
    const Value &before = n.leaves[p];
    ASSERT_EQ(r.updates[p].shape, before.shape) << p;
    for (size_t i = 0; i < before.data.size(); ++i)
      EXPECT_NEAR(r.updates[p].data[i],
                  before.data[i] - 0.1 * n.numericGrad(p, i), 1e-8)
          << p << "[" << i << "]";
  }
  // The loss output is still the forward loss.
  EXPECT_EQ(r.outputs["loss"].data,
            Interpreter(n.g).step(n.leaves).outputs["loss"].data);
}

TEST(OptimizerStep, SgdWithMomentumMatchesPyTorchRule) {
  Neuron n;
  OptimizerSpec opt;
  opt.lr = 0.05;
  opt.momentum = 0.9;
  Graph step = differentiate(n.g, &opt);
  ASSERT_EQ(step.leaves(OpKind::State).size(), 3u); // and the lr
  ValueMap l = n.leaves;
  l["optimizer.lr"] = Value::scalar(0.05);
  l["optimizer.w.momentum"] = val({3}, {0.01, -0.02, 0.03});
  l["optimizer.b.momentum"] = Value::scalar(-0.04);
  Interpreter::Result r = Interpreter(step).step(l);
  ASSERT_EQ(r.updates.size(), 4u);
  for (const std::string p : {"w", "b"}) {
    const Value &w = l[p], &v = l["optimizer." + p + ".momentum"];
    const Value &nv = r.updates["optimizer." + p + ".momentum"];
    for (size_t i = 0; i < w.data.size(); ++i) {
      // PyTorch: v = mu * v + g; w -= lr * v.
      double wantV = 0.9 * v.data[i] + n.numericGrad(p, i);
      EXPECT_NEAR(nv.data[i], wantV, 1e-8) << p << "[" << i << "]";
      EXPECT_NEAR(r.updates[p].data[i], w.data[i] - 0.05 * wantV, 1e-9)
          << p << "[" << i << "]";
    }
  }
  // Without the state bound the step is a user error naming it.
  try {
    Interpreter(step).run(n.leaves);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("state 'optimizer."),
              std::string::npos)
        << e.what();
  }
}

namespace {

/// The neuron's Adam state: m, v per parameter, `done` steps so far and the
/// learning rate `lr`.
ValueMap withAdamState(const Neuron &n, double done, double lr) {
  ValueMap l = n.leaves;
  l["optimizer.lr"] = Value::scalar(lr);
  l["optimizer.w.m"] = val({3}, {0.01, -0.02, 0.03});
  l["optimizer.w.v"] = val({3}, {1e-4, 4e-4, 2e-5});
  l["optimizer.b.m"] = Value::scalar(-0.04);
  l["optimizer.b.v"] = Value::scalar(3e-4);
  l["optimizer.step"] = Value::scalar(done);
  return l;
}

/// One step of torch.optim.Adam (decoupled: AdamW) on the neuron, by hand,
/// against the interpreter's run of the graph the optimizer built.
void checkAdam(const OptimizerSpec &opt, bool decoupled) {
  Neuron n;
  Graph step = differentiate(n.g, &opt);
  // m and v per parameter, the one step counter and the lr.
  ASSERT_EQ(step.leaves(OpKind::State).size(), 6u);
  ValueMap l = withAdamState(n, 2, opt.lr);
  Interpreter::Result r = Interpreter(step).step(l);
  ASSERT_EQ(r.updates.size(), 7u);
  EXPECT_EQ(r.updates["optimizer.step"].data[0], 3.0);
  double t = 3, lr = opt.lr, b1 = opt.beta1, b2 = opt.beta2,
         wd = opt.weightDecay;
  for (const std::string p : {"w", "b"}) {
    const Value &w = l[p], &m = l["optimizer." + p + ".m"],
                &v = l["optimizer." + p + ".v"];
    for (size_t i = 0; i < w.data.size(); ++i) {
      double g = n.numericGrad(p, i), x = w.data[i];
      if (decoupled)
        x *= 1 - lr * wd;
      else
        g += wd * w.data[i];
      double m2 = b1 * m.data[i] + (1 - b1) * g;
      double v2 = b2 * v.data[i] + (1 - b2) * g * g;
      double step = lr / (1 - std::pow(b1, t));
      double denom = std::sqrt(v2) / std::sqrt(1 - std::pow(b2, t)) + opt.eps;
      std::string at = p + "[" + std::to_string(i) + "]";
      EXPECT_NEAR(r.updates["optimizer." + p + ".m"].data[i], m2, 1e-9) << at;
      EXPECT_NEAR(r.updates["optimizer." + p + ".v"].data[i], v2, 1e-9) << at;
      EXPECT_NEAR(r.updates[p].data[i], x - step * m2 / denom, 1e-7) << at;
    }
  }
}

} // namespace

TEST(OptimizerStep, AdamMatchesPyTorchRule) {
  OptimizerSpec opt = defaultSpec(*findOptimizer("adam"));
  opt.lr = 0.01;
  checkAdam(opt, false);
  opt.weightDecay = 0.1; // g += wd * w
  opt.beta1 = 0.8;
  opt.beta2 = 0.99;
  checkAdam(opt, false);
}

TEST(OptimizerStep, AdamwDecaysTheWeightsBeforeTheStep) {
  OptimizerSpec opt = defaultSpec(*findOptimizer("adamw"));
  EXPECT_EQ(opt.weightDecay, 0.01); // adamw's own default
  EXPECT_EQ(opt.lr, 0.001);
  opt.lr = 0.01;
  opt.weightDecay = 0.5;
  checkAdam(opt, true);
  opt.weightDecay = 0;
  checkAdam(opt, true);
}

TEST(OptimizerStep, SgdNesterovWithWeightDecayMatchesPyTorchRule) {
  Neuron n;
  OptimizerSpec opt;
  opt.lr = 0.05;
  opt.momentum = 0.9;
  opt.nesterov = 1;
  opt.weightDecay = 0.01;
  Graph step = differentiate(n.g, &opt);
  ValueMap l = n.leaves;
  l["optimizer.lr"] = Value::scalar(opt.lr);
  l["optimizer.w.momentum"] = val({3}, {0.01, -0.02, 0.03});
  l["optimizer.b.momentum"] = Value::scalar(-0.04);
  Interpreter::Result r = Interpreter(step).step(l);
  for (const std::string p : {"w", "b"}) {
    const Value &w = l[p], &v = l["optimizer." + p + ".momentum"];
    for (size_t i = 0; i < w.data.size(); ++i) {
      // PyTorch: g += wd * w; v = mu * v + g; g += mu * v; w -= lr * g.
      double g = n.numericGrad(p, i) + 0.01 * w.data[i];
      double v2 = 0.9 * v.data[i] + g;
      EXPECT_NEAR(r.updates["optimizer." + p + ".momentum"].data[i], v2, 1e-8);
      EXPECT_NEAR(r.updates[p].data[i], w.data[i] - 0.05 * (g + 0.9 * v2), 1e-9)
          << p << "[" << i << "]";
    }
  }
}

TEST(OptimizerStep, FusedUpdatesComputeWhatTheGraphDoes) {
  Neuron n;
  for (const char *name : {"sgd", "adam", "adamw"}) {
    OptimizerSpec opt = defaultSpec(*findOptimizer(name));
    opt.momentum = opt.kind == OptimizerSpec::Kind::Sgd ? 0.9 : 0;
    opt.weightDecay = 0.05;
    Graph step = differentiate(n.g, &opt);
    FusionLog log;
    Graph fused = fuseSgd(step, log);
    int updateOps = 0;
    for (const Node &x : fused.nodes)
      updateOps += family(x.op) == OpFamily::Update;
    // Every tensor update (2 or 3 per parameter) became an update op.
    EXPECT_EQ(updateOps, opt.kind == OptimizerSpec::Kind::Sgd ? 4 : 6) << name;
    ValueMap l = withAdamState(n, 4, opt.lr);
    l["optimizer.w.momentum"] = val({3}, {0.01, -0.02, 0.03});
    l["optimizer.b.momentum"] = Value::scalar(-0.04);
    Interpreter::Result want = Interpreter(step).step(l);
    Interpreter::Result got = Interpreter(fused).step(l);
    ASSERT_EQ(got.updates.size(), want.updates.size()) << name;
    for (const auto &[k, v] : want.updates)
      for (size_t i = 0; i < v.data.size(); ++i)
        EXPECT_DOUBLE_EQ(got.updates[k].data[i], v.data[i]) << name << " " << k;
  }
}
