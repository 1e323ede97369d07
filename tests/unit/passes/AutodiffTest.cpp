//===- AutodiffTest.cpp - Structure of the backward graph -----------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

Graph typed(const Graph &g) {
  DiagEngine d;
  return inferShapes(g, d);
}

NodeId byName(const Graph &g, const std::string &name) {
  for (NodeId i = 0; i < g.size(); ++i)
    if (g[i].name == name)
      return i;
  ADD_FAILURE() << "no node named " << name;
  return 0;
}

OpKind opOf(const Graph &g, NodeId id) { return g[id].op; }

} // namespace

TEST(Autodiff, DenseBackwardPattern) {
  Graph fwd = typed(mlpGraph());
  Graph g = differentiate(fwd);
  EXPECT_TRUE(verifyGraph(g).empty());
  // dW = transpose(X) @ dZ, db = sum(dZ, axis 0), with dZ = dH * step(Z).
  NodeId dW = *g.output("grad.fc1.weight");
  NodeId db = *g.output("grad.fc1.bias");
  EXPECT_EQ(g[dW].name, "d.fc1.weight");
  ASSERT_EQ(opOf(g, dW), OpKind::MatMul);
  NodeId xT = g[dW].inputs[0];
  EXPECT_EQ(opOf(g, xT), OpKind::Transpose);
  EXPECT_EQ(g[xT].inputs[0], *g.findLeaf(OpKind::Input, "x"));
  NodeId dZ = g[dW].inputs[1];
  ASSERT_EQ(opOf(g, db), OpKind::Sum);
  EXPECT_EQ(g[db].axis, 0);
  EXPECT_EQ(g[db].inputs[0], dZ);
  ASSERT_EQ(opOf(g, dZ), OpKind::Mul);
  NodeId step = g[dZ].inputs[1];
  EXPECT_EQ(opOf(g, step), OpKind::Step);
  NodeId preAct = g[byName(fwd, "fc1")].inputs[0];
  EXPECT_EQ(g[step].inputs[0], preAct);
  // Gradients have their parameters' types.
  for (NodeId p : g.leaves(OpKind::Param))
    EXPECT_EQ(g[*g.output("grad." + g[p].name)].type, g[p].type);
  EXPECT_TRUE(g.updates.empty());
}

TEST(Autodiff, EveryNewNodeHasALocationAndAType) {
  Graph fwd = typed(mlpGraph());
  OptimizerSpec opt;
  opt.momentum = 0.9;
  Graph g = differentiate(fwd, &opt);
  for (NodeId i = fwd.size(); i < g.size(); ++i) {
    EXPECT_TRUE(g[i].loc.valid()) << "node " << i;
    EXPECT_TRUE(g[i].type.known) << "node " << i;
  }
}

TEST(Autodiff, SgdWithMomentum) {
  Graph fwd = typed(mlpGraph());
  OptimizerSpec opt;
  opt.lr = 0.05;
  opt.momentum = 0.9;
  Graph g = differentiate(fwd, &opt);
  EXPECT_TRUE(verifyGraph(g).empty());
  ASSERT_EQ(g.updates.size(), 8u);
  EXPECT_FALSE(g.output("grad.fc1.weight"));
  NodeId w = *g.findLeaf(OpKind::Param, "fc1.weight");
  auto v = g.findLeaf(OpKind::State, "optimizer.fc1.weight.momentum");
  ASSERT_TRUE(v);
  EXPECT_EQ(g[*v].type, g[w].type);
  NodeId newV = -1, newW = -1;
  for (const Update &u : g.updates) {
    if (u.target == *v)
      newV = u.value;
    if (u.target == w)
      newW = u.value;
  }
  ASSERT_GE(newV, 0);
  ASSERT_GE(newW, 0);
  // v' = momentum * v + g
  ASSERT_EQ(opOf(g, newV), OpKind::Add);
  NodeId muV = g[newV].inputs[0];
  ASSERT_EQ(opOf(g, muV), OpKind::Mul);
  EXPECT_EQ(g[g[muV].inputs[0]].values, std::vector<double>{0.9});
  EXPECT_EQ(g[muV].inputs[1], *v);
  EXPECT_EQ(g[g[newV].inputs[1]].name, "d.fc1.weight");
  // w' = w - lr * v'
  ASSERT_EQ(opOf(g, newW), OpKind::Sub);
  EXPECT_EQ(g[newW].inputs[0], w);
  NodeId step = g[newW].inputs[1];
  ASSERT_EQ(opOf(g, step), OpKind::Mul);
  EXPECT_EQ(g[g[step].inputs[0]].values, std::vector<double>{0.05});
  EXPECT_EQ(g[step].inputs[1], newV);
}

TEST(Autodiff, PlainSgdHasNoStateButTheLr) {
  Graph fwd = typed(churnGraph());
  OptimizerSpec opt;
  opt.lr = 0.02;
  Graph g = differentiate(fwd, &opt);
  EXPECT_TRUE(verifyGraph(g).empty());
  // The lr, a scalar State leaf the trainer writes before each step.
  std::vector<NodeId> state = g.leaves(OpKind::State);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(g[state[0]].name, "optimizer.lr");
  EXPECT_EQ(g[state[0]].values, std::vector<double>{0.02});
  ASSERT_EQ(g.updates.size(), 2u);
  for (const Update &u : g.updates) {
    ASSERT_EQ(opOf(g, u.value), OpKind::Sub);
    EXPECT_EQ(g[u.value].inputs[0], u.target);
    NodeId step = g[u.value].inputs[1];
    EXPECT_EQ(g[g[step].inputs[0]].values, std::vector<double>{0.02});
    EXPECT_EQ(g[g[step].inputs[1]].name, "d." + g[u.target].name);
  }
}

TEST(Autodiff, SigmoidReusesForwardNode) {
  Graph fwd = typed(churnGraph());
  Graph g = differentiate(fwd);
  NodeId p = byName(fwd, "p");
  NodeId dz = byName(g, "d.z");
  // d.z = d.p * (p * (1 - p))
  ASSERT_EQ(opOf(g, dz), OpKind::Mul);
  EXPECT_EQ(g[g[dz].inputs[0]].name, "d.p");
  NodeId s = g[dz].inputs[1];
  ASSERT_EQ(opOf(g, s), OpKind::Mul);
  EXPECT_EQ(g[s].inputs[0], p);
  NodeId oneMinus = g[s].inputs[1];
  ASSERT_EQ(opOf(g, oneMinus), OpKind::Sub);
  EXPECT_EQ(g[oneMinus].inputs[1], p);
  // The scalar bias's gradient sums over everything.
  NodeId db = *g.output("grad.b");
  EXPECT_EQ(opOf(g, db), OpKind::Sum);
  EXPECT_EQ(g[db].axis, -1);
}

TEST(Autodiff, ParamsOffThePathGetNothing) {
  Graph fwd = mlpGraph();
  param(fwd, "unused", {3}, false);
  Graph g = differentiate(typed(fwd));
  EXPECT_FALSE(g.output("grad.unused"));
  EXPECT_TRUE(g.output("grad.fc2.bias"));
}

TEST(Autodiff, NeedsALoss) {
  Graph fwd = typed(mlpGraph());
  fwd.outputs.erase(fwd.outputs.begin());
  EXPECT_THROW(differentiate(fwd), UserError);
}
