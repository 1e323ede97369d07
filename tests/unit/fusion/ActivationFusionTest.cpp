//===- ActivationFusionTest.cpp - Every activation in the fused dense ops -===//
///
/// \file
/// For every activation of the op table: a two-layer model trained with it
/// folds its derivative into every dense gradient (fused.dense_grad_weight,
/// _bias, _input carry the activation and leaky_relu's slope); the forward
/// fuses it into fused.dense, except gelu and silu in a training graph,
/// whose gradient reads the pre-activation (the fusion log says so), while
/// their forward-only graph fuses; and the fused step computes on the
/// interpreter what the unfused one does. leaky_relu is written with a
/// slope of 0.2 (`dense(x, 4, leaky_relu(0.2))`), so a lost slope shows.
///
//===----------------------------------------------------------------------===//

#include "LeafValues.h"
#include "frontend/Frontend.h"
#include "ir/Attributes.h"
#include "ir/Support.h"
#include "passes/Fuse.h"
#include "passes/Pipeline.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;

namespace {

constexpr double kSlope = 0.2;

bool slopeOf(Activation act) { return hasSlope(opOf(activationOp(act))); }

/// `leaky_relu(0.2)` or the activation's name.
std::string actText(Activation act) {
  std::string s = activationName(act);
  return slopeOf(act) ? s + "(0.2)" : s;
}

Model model(Activation act) {
  std::string text = "model m\ninput x : f32[5]\nlabel y : class(3)\n"
                     "h1 = dense(x, 4, " +
                     actText(act) + ")\nh2 = dense(h1, 6, " + actText(act) +
                     ")\nout = dense(h2, 3)\n"
                     "loss cross_entropy(softmax(out), y)\n"
                     "train { data csv(\"d.csv\", label = \"y\") optimizer "
                     "sgd(lr = 0.1, momentum = 0.9) batch 4 epochs 1 }\n";
  DiagEngine diags;
  diags.addSource("m.nn", text);
  std::optional<Model> m = parseModel("m.nn", text, diags);
  EXPECT_TRUE(m) << diags.str();
  return m ? *m : Model{};
}

Graph compile(const Model &m, Stage stop, FusionLog *log = nullptr) {
  PipelineOptions opts;
  opts.fusionLog = log;
  DiagEngine diags;
  return runPipeline(m.graph, m.recipe, stop, opts, diags);
}

/// The nodes of `g` of op `k`.
std::vector<const Node *> nodesOf(const Graph &g, OpKind k) {
  std::vector<const Node *> r;
  for (const Node &n : g.nodes)
    if (n.op == k)
      r.push_back(&n);
  return r;
}

ValueMap leaves(const Graph &g) {
  return test::leafValues(g, 4, [](const Node &n, int64_t i) {
    if (n.op == OpKind::Label)
      return static_cast<double>(i % 3);
    return std::sin(1.3 * static_cast<double>(i) + n.name.size());
  });
}

} // namespace

TEST(ActivationFusion, EveryActivationFoldsIntoTheDenseGradients) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    Graph g = compile(model(act), Stage::Fused);
    double want = slopeOf(act) ? kSlope : 0.0;
    // Two layers with the activation: two weight and bias gradients, one
    // input gradient (x, an input, needs none).
    for (auto [op, count] : {std::pair{OpKind::DenseGradWeight, 2},
                             {OpKind::DenseGradBias, 2},
                             {OpKind::DenseGradInput, 1}}) {
      int withAct = 0;
      for (const Node *n : nodesOf(g, op))
        if (n->act == act) {
          ++withAct;
          EXPECT_EQ(n->param, want) << mnemonic(op);
          // gelu and silu read z (a fused.dense without activation).
          const Node &a = g[n->inputs[op == OpKind::DenseGradWeight ? 2 : 1]];
          if (gradFromInput(act))
            EXPECT_TRUE(a.op == OpKind::Dense && a.act == Activation::None)
                << mnemonic(op) << " reads " << mnemonic(a.op);
          else
            EXPECT_TRUE(a.op == OpKind::Dense && a.act == act)
                << mnemonic(op) << " reads " << mnemonic(a.op);
        }
      EXPECT_EQ(withAct, count) << mnemonic(op);
    }
  }
}

TEST(ActivationFusion, InputFormActivationsStayOutOfTheTrainingForward) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    FusionLog log;
    Graph g = compile(model(act), Stage::Fused, &log);
    int fusedAct = 0;
    for (const Node *n : nodesOf(g, OpKind::Dense))
      if (n->act == act) {
        ++fusedAct;
        EXPECT_EQ(n->param, slopeOf(act) ? kSlope : 0.0);
      }
    int apart = static_cast<int>(nodesOf(g, opOf(activationOp(act))).size());
    std::string reason = std::string(activationName(act)) +
                         "'s gradient is computed from its input";
    int said = 0;
    for (const FusionLog::Entry &e : log.entries)
      said += e.fusion == "dense" &&
              e.text.find("activation not fused") != std::string::npos &&
              e.text.find(reason) != std::string::npos;
    if (gradFromInput(act)) {
      EXPECT_EQ(fusedAct, 0);
      EXPECT_EQ(apart, 2);
      EXPECT_EQ(said, 2) << log.str();
    } else {
      EXPECT_EQ(fusedAct, 2);
      EXPECT_EQ(apart, 0);
      EXPECT_EQ(said, 0) << log.str();
    }
  }
}

TEST(ActivationFusion, ForwardOnlyGraphsFuseEveryActivation) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    FusionLog log;
    Graph g =
        fuse(compile(model(act), Stage::Forward), parseFusionList("all"), log);
    int fusedAct = 0;
    for (const Node *n : nodesOf(g, OpKind::Dense))
      if (n->act == act) {
        ++fusedAct;
        EXPECT_EQ(n->param, slopeOf(act) ? kSlope : 0.0);
      }
    EXPECT_EQ(fusedAct, 2) << log.str();
    EXPECT_TRUE(nodesOf(g, opOf(activationOp(act))).empty());
  }
}

TEST(ActivationFusion, FusedStepComputesTheUnfusedOne) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    Model m = model(act);
    Graph ref = compile(m, Stage::Opt);
    Graph fused = compile(m, Stage::Fused);
    ValueMap in = leaves(ref);
    Interpreter::Result want = Interpreter(ref).step(in);
    Interpreter::Result got = Interpreter(fused).step(in);
    ASSERT_FALSE(want.updates.empty());
    for (const auto &[name, w] : want.updates) {
      const Value &v = got.updates.at(name);
      ASSERT_EQ(w.shape, v.shape) << name;
      for (int64_t i = 0; i < w.numel(); ++i)
        EXPECT_NEAR(v.data[i], w.data[i],
                    1e-12 * std::max(1.0, std::fabs(w.data[i])))
            << name << "[" << i << "]";
    }
  }
}
