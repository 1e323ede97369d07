//===- OptimizerStepTest.cpp - SGD updates run on the interpreter ---------===//
///
/// \file
/// The update nodes that differentiate(g, &opt) appends, executed by the
/// interpreter, against PyTorch's SGD rule applied by hand to gradients
/// taken by central differences.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "passes/Autodiff.h"
#include "passes/InferShapes.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

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
