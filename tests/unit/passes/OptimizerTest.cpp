//===- OptimizerTest.cpp - The optimizer table and pass -------------------===//
///
/// \file
/// ir/Optimizers.def is the one list of optimizers: its rows give
/// OptimizerSpec's fields and defaults, the frontend's names and checks,
/// and the dispatch to each optimizer's file. Autodiff gives gradients
/// only; applyOptimizer turns them into updates.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/FuseUtil.h"
#include "passes/InferShapes.h"
#include "passes/optim/Optimizer.h"

#include <gtest/gtest.h>

#include <set>

using namespace nn;
using namespace nn::test;

namespace {

Graph typedMlp() {
  DiagEngine d;
  return inferShapes(mlpGraph(), d);
}

} // namespace

TEST(OptimizerTable, RowsAreConsistent) {
  ASSERT_FALSE(optimizers().empty());
  OptimizerSpec spec;
  EXPECT_EQ(spec.kind, optimizers()[0].kind); // the first row is the default
  std::set<std::string> names;
  for (const OptimizerInfo &o : optimizers()) {
    EXPECT_TRUE(names.insert(o.name).second) << o.name << " twice";
    EXPECT_EQ(&optimizerInfo(o.kind), &o);
    EXPECT_EQ(findOptimizer(o.name), &o);
    EXPECT_EQ(std::string(o.example).rfind(std::string(o.name) + "(", 0), 0u)
        << o.example;
  }
  for (const HyperParam &p : hyperParams()) {
    EXPECT_EQ(spec.*(p.field), p.defaultValue) << p.name;
    EXPECT_TRUE(inRange(p.range, p.defaultValue) || p.defaultValue == 0)
        << p.name;
    EXPECT_EQ(findHyperParam(p.name), &p);
  }
}

TEST(OptimizerTable, SgdTakesLrMomentumNesterovAndWeightDecay) {
  const OptimizerInfo *sgd = findOptimizer("sgd");
  ASSERT_TRUE(sgd);
  EXPECT_EQ(
      optimizerSettings(*sgd),
      (std::vector<std::string>{"lr", "momentum", "nesterov", "weight_decay"}));
  EXPECT_FALSE(inRange(sgd->params[0]->range, 0));
  EXPECT_TRUE(inRange(sgd->params[0]->range, 1e-9));
  EXPECT_TRUE(inRange(sgd->params[1]->range, 0));
  EXPECT_FALSE(inRange(sgd->params[1]->range, 1));
  EXPECT_STREQ(rangeText(sgd->params[1]->range), "in [0, 1)");
  EXPECT_FALSE(inRange(sgd->params[2]->range, 0.5)); // nesterov: 0 or 1
  EXPECT_FALSE(inRange(sgd->params[3]->range, -1e-4));
  EXPECT_FALSE(findOptimizer("rmsprop"));
}

TEST(Optimizer, AutodiffGivesGradientsOnlyAndThePassTurnsThemIntoUpdates) {
  Graph grads = differentiate(typedMlp());
  EXPECT_TRUE(grads.updates.empty());
  OptimizerSpec spec;
  spec.momentum = 0.9;
  Graph g = applyOptimizer(grads, spec);
  EXPECT_TRUE(verifyGraph(g).empty());
  for (const Output &o : g.outputs)
    EXPECT_NE(o.name.rfind("grad.", 0), 0u) << o.name << " left behind";
  EXPECT_EQ(g.outputs.size(), typedMlp().outputs.size());
  // Each parameter and its momentum buffer; and the lr, a state leaf the
  // trainer writes (no update of its own).
  size_t params = g.leaves(OpKind::Param).size();
  ASSERT_EQ(g.updates.size(), 2 * params);
  EXPECT_EQ(g.leaves(OpKind::State).size(), params + 1);
  EXPECT_TRUE(g.findLeaf(OpKind::State, kLrLeaf));
  // The same graph as the one-call form the tests and gradcheck use.
  Graph once = differentiate(typedMlp(), &spec);
  EXPECT_EQ(once.size(), g.size());
  EXPECT_EQ(once.updates.size(), g.updates.size());
}

TEST(Optimizer, UpdatesReadTheGradientAutodiffExposed) {
  Graph grads = differentiate(typedMlp());
  NodeId dW = *grads.output("grad.fc1.weight");
  OptimizerSpec spec;
  Graph g = applyOptimizer(grads, spec);
  NodeId w = *g.findLeaf(OpKind::Param, "fc1.weight");
  for (const Update &u : g.updates) {
    if (u.target != w)
      continue;
    // w - lr * dW
    ASSERT_EQ(g[u.value].op, OpKind::Sub);
    NodeId scaled = g[u.value].inputs[1];
    EXPECT_EQ(g[scaled].inputs[1], dW);
    return;
  }
  FAIL() << "no update of fc1.weight";
}

/// Each optimizer with and without its options.
static std::vector<OptimizerSpec> everyOptimizer() {
  std::vector<OptimizerSpec> specs;
  for (const OptimizerInfo &o : optimizers())
    for (int variant = 0; variant < 3; ++variant) {
      OptimizerSpec s = defaultSpec(o);
      if (variant >= 1 && s.kind == OptimizerSpec::Kind::Sgd)
        s.momentum = 0.9;
      if (variant == 2) {
        s.weightDecay = 0.01;
        s.nesterov = s.kind == OptimizerSpec::Kind::Sgd ? 1 : 0;
      }
      if (variant == 1 && s.kind == OptimizerSpec::Kind::Adamw)
        s.weightDecay = 0;
      specs.push_back(s);
    }
  return specs;
}

TEST(Optimizer, EveryUpdateItBuildsIsRecognisedByAnUpdateOp) {
  for (const OptimizerSpec &spec : everyOptimizer()) {
    Graph g = differentiate(typedMlp(), &spec);
    FuseContext c(g);
    ASSERT_FALSE(g.updates.empty());
    for (const Update &u : g.updates) {
      if (g[u.target].name == kStepLeaf)
        continue; // t + 1: a scalar add
      int found = 0;
      for (OpKind k : allOps())
        if (family(k) == OpFamily::Update) {
          UpdateMatch m = matchUpdate(c, member<UpdateOp>(k), u);
          if (m.operands.empty())
            continue;
          ++found;
          EXPECT_EQ(m.operands[0], u.target) << mnemonic(k);
          EXPECT_EQ(static_cast<int>(m.operands.size()), opInfo(k).arity);
          EXPECT_TRUE(g[m.operands.back()].type.isScalar()) << mnemonic(k);
        }
      EXPECT_EQ(found, 1) << "update of " << g[u.target].name << " by "
                          << describeOptimizer(spec);
    }
  }
}

TEST(Optimizer, AStepSharedByTwoUpdatesIsNotOfTheFusedForm) {
  OptimizerSpec spec;
  Graph g = differentiate(typedMlp(), &spec);
  // A second use of fc1.weight's lr * step: fused.sgd would recompute it.
  const Update &u = g.updates[0];
  NodeId scaledStep = g[u.value].inputs[1];
  g.outputs.push_back({"shared", scaledStep});
  FuseContext c(g);
  UpdateMatch m = matchSgdStep(c, u);
  EXPECT_TRUE(m.applies);
  EXPECT_TRUE(m.operands.empty());
  EXPECT_NE(m.why.find("has 2 uses"), std::string::npos) << m.why;
  // The momentum form does not apply to a parameter.
  EXPECT_FALSE(matchSgdMomentum(c, u).applies);
}

TEST(OptimizerTable, DescribesASpecAsTheProgressLineShowsIt) {
  OptimizerSpec spec;
  spec.lr = 0.05;
  spec.momentum = 0.9;
  EXPECT_EQ(describeOptimizer(spec), "sgd(lr=0.05, momentum=0.9)");
  spec.lr = 1e-7;
  spec.momentum = 0;
  EXPECT_EQ(describeOptimizer(spec), "sgd(lr=1e-07, momentum=0)");
}
