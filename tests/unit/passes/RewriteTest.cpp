//===- RewriteTest.cpp - stable losses, L2, CSE, DCE, FLOP counts ---------===//

#include "TestGraphs.h"

#include "ir/Verifier.h"
#include "passes/AddL2.h"
#include "passes/Autodiff.h"
#include "passes/CSE.h"
#include "passes/DCE.h"
#include "passes/FlopCount.h"
#include "passes/InferShapes.h"
#include "passes/StableLosses.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

Graph typed(const Graph &g) {
  DiagEngine d;
  return inferShapes(g, d);
}

int countOps(const Graph &g, OpKind k) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k;
  return n;
}

} // namespace

TEST(StableLosses, CrossEntropyOnSoftmaxKeepsPred) {
  Graph g = stableLosses(typed(mlpGraph()));
  EXPECT_TRUE(verifyGraph(g).empty());
  NodeId loss = *g.output("loss");
  EXPECT_EQ(g[loss].op, OpKind::SoftmaxCrossEntropy);
  EXPECT_EQ(g[loss].name, "loss");
  EXPECT_EQ(g[loss].loc, at(8, 6, 13));
  // Reads the logits; the softmax stays for "pred".
  EXPECT_EQ(g[g[loss].inputs[0]].name, "fc2");
  EXPECT_EQ(g[*g.output("pred")].op, OpKind::Softmax);
  EXPECT_EQ(countOps(g, OpKind::CrossEntropy), 0);
}

TEST(StableLosses, UnusedSigmoidGoes) {
  Graph g = churnGraph();
  g.outputs.pop_back(); // no "pred": nothing else uses the sigmoid
  Graph out = stableLosses(typed(g));
  EXPECT_TRUE(verifyGraph(out).empty());
  EXPECT_EQ(countOps(out, OpKind::Sigmoid), 0);
  EXPECT_EQ(out.size(), g.size() - 1);
  NodeId loss = *out.output("loss");
  EXPECT_EQ(out[loss].op, OpKind::BceLogits);
  EXPECT_EQ(out[out[loss].inputs[0]].name, "z");
}

TEST(StableLosses, LeavesOtherLossesAlone) {
  Graph g = typed(churnGraph());
  // bce on something that is not a sigmoid stays bce.
  g[*g.output("loss")].inputs[0] = g[*g.output("pred")].inputs[0];
  Graph out = stableLosses(g);
  EXPECT_EQ(out[*out.output("loss")].op, OpKind::Bce);
}

TEST(AddL2, PenalisesWeightsNotBiases) {
  Graph fwd = typed(mlpGraph());
  Graph g = addL2(fwd, 1e-4);
  EXPECT_TRUE(verifyGraph(g).empty());
  NodeId loss = *g.output("loss");
  ASSERT_EQ(g[loss].op, OpKind::Add);
  EXPECT_EQ(g[loss].inputs[0], *fwd.output("loss"));
  NodeId pen = g[loss].inputs[1];
  ASSERT_EQ(g[pen].op, OpKind::Mul);
  EXPECT_EQ(g[g[pen].inputs[0]].values, std::vector<double>{1e-4});
  // Exactly the two weights are squared, each summed to a scalar.
  std::vector<std::string> squared;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Mul && n.inputs[0] == n.inputs[1])
      squared.push_back(g[n.inputs[0]].name);
  EXPECT_EQ(squared, (std::vector<std::string>{"fc1.weight", "fc2.weight"}));
  EXPECT_EQ(g[loss].type, TensorType::scalar());
  // The penalty reaches the weight gradient: d.fc1.weight has two terms.
  Graph d = differentiate(g);
  EXPECT_EQ(d[*d.output("grad.fc1.weight")].op, OpKind::Add);
  EXPECT_EQ(d[*d.output("grad.fc1.bias")].op, OpKind::Sum);
}

TEST(AddL2, ZeroLambdaIsANoOp) {
  Graph fwd = typed(mlpGraph());
  Graph g = addL2(fwd, 0);
  EXPECT_EQ(g.size(), fwd.size());
  EXPECT_EQ(*g.output("loss"), *fwd.output("loss"));
}

TEST(CSE, MergesDuplicates) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 2}));
  NodeId x2 = leaf(g, OpKind::Input, "x2", TensorType::of({kBatch, 2}));
  NodeId a = op(g, OpKind::Sigmoid, {x}, "", at(1, 1));
  NodeId b = op(g, OpKind::Sigmoid, {x}, "s", at(2, 1));
  NodeId c = op(g, OpKind::Sigmoid, {x2});           // other operand
  NodeId m1 = op(g, OpKind::Mul, {a, c});
  NodeId m2 = op(g, OpKind::Mul, {c, b});            // commutes
  NodeId s1 = op(g, OpKind::Sub, {a, c});
  NodeId s2 = op(g, OpKind::Sub, {c, b});            // does not
  NodeId k1 = constant(g, 1.0);
  NodeId k2 = constant(g, 1.0);
  NodeId k3 = constant(g, -0.0);
  NodeId k4 = constant(g, 0.0);
  Node sum0 = makeNode(OpKind::Sum, {m1});
  sum0.axis = 0;
  NodeId r0 = g.add(sum0);
  NodeId r1 = op(g, OpKind::Sum, {m2});               // other axis
  NodeId t = op(g, OpKind::Add, {k1, k2});
  t = op(g, OpKind::Add, {t, k3});
  t = op(g, OpKind::Add, {t, k4});
  g.outputs = {{"m1", m1}, {"m2", m2}, {"s1", s1}, {"s2", s2}, {"r0", r0},
               {"r1", r1}, {"t", t}};
  g.updates = {};
  Graph out = cse(typed(g));
  EXPECT_TRUE(verifyGraph(out).empty());
  EXPECT_EQ(*out.output("m1"), *out.output("m2"));
  EXPECT_NE(*out.output("s1"), *out.output("s2"));
  EXPECT_NE(*out.output("r0"), *out.output("r1"));
  EXPECT_EQ(countOps(out, OpKind::Sigmoid), 2);
  EXPECT_EQ(countOps(out, OpKind::Const), 3); // 1, -0, 0
  EXPECT_EQ(countOps(out, OpKind::Input), 2); // leaves never merge
  // The survivor keeps its place and location and takes the name.
  NodeId sig = out[*out.output("m1")].inputs[0];
  EXPECT_EQ(out[sig].name, "s");
  EXPECT_EQ(out[sig].loc, at(1, 1));
  (void)b;
}

TEST(CSE, MergesTheBackwardSigmoidWithTheForwardOne) {
  Graph fwd = stableLosses(typed(churnGraph()));
  Graph g = differentiate(fwd);
  EXPECT_EQ(countOps(g, OpKind::Sigmoid), 2);
  Graph out = cse(g);
  EXPECT_EQ(countOps(out, OpKind::Sigmoid), 1);
  EXPECT_TRUE(verifyGraph(out).empty());
  EXPECT_EQ(out.outputs.size(), g.outputs.size());
}

TEST(DCE, KeepsTheInterface) {
  Graph g = typed(mlpGraph());
  NodeId x = *g.findLeaf(OpKind::Input, "x");
  op(g, OpKind::Exp, {x});                         // dead
  NodeId k = constant(g, 3.0);                     // dead const
  leaf(g, OpKind::Param, "unused", TensorType::of({2})); // interface
  NodeId s = leaf(g, OpKind::State, "st", TensorType::of({2}));
  NodeId kept = constant(g, 2.0);
  NodeId v = op(g, OpKind::Mul, {kept, s});
  g.updates.push_back({s, v});
  Graph out = dce(typed(g));
  EXPECT_TRUE(verifyGraph(out).empty());
  EXPECT_EQ(countOps(out, OpKind::Exp), 0);
  EXPECT_EQ(out.size(), g.size() - 2);
  EXPECT_TRUE(out.findLeaf(OpKind::Param, "unused"));
  EXPECT_EQ(out.updates.size(), 1u);
  EXPECT_EQ(out[out.updates[0].value].op, OpKind::Mul);
  EXPECT_EQ(out[out[*out.output("pred")].inputs[0]].name, "fc2");
  (void)k;
}

TEST(FlopCount, Conventions) {
  Graph g = typed(mlpGraph());
  auto flops = [&](OpKind k, int which = 0) {
    int seen = 0;
    for (NodeId i = 0; i < g.size(); ++i)
      if (g[i].op == k && seen++ == which)
        return nodeFlops(g, i, 64);
    ADD_FAILURE() << "no " << mnemonic(k);
    return -1.0;
  };
  EXPECT_EQ(flops(OpKind::MatMul, 0), 2.0 * 64 * 4 * 8);
  EXPECT_EQ(flops(OpKind::MatMul, 1), 2.0 * 64 * 8 * 3);
  EXPECT_EQ(flops(OpKind::Add), 64.0 * 8);   // bias add
  EXPECT_EQ(flops(OpKind::Relu), 64.0 * 8);
  EXPECT_EQ(flops(OpKind::Softmax), 5.0 * 64 * 3);
  EXPECT_EQ(flops(OpKind::Input), 0.0);
  EXPECT_EQ(flops(OpKind::Param), 0.0);
  Graph d = differentiate(g);
  double transposes = 0, sums = 0;
  for (NodeId i = 0; i < d.size(); ++i) {
    if (d[i].op == OpKind::Transpose)
      transposes += nodeFlops(d, i, 64);
    if (d[i].name == "d.fc1.bias")
      sums = nodeFlops(d, i, 64); // a reduction: 1 per input element
  }
  EXPECT_EQ(transposes, 0.0);
  EXPECT_EQ(sums, 64.0 * 8);
  // The weight gradient transpose(X) @ dZ reduces over the batch: k = N.
  NodeId dW = *d.output("grad.fc1.weight");
  EXPECT_EQ(nodeFlops(d, dW, 64), 2.0 * 4 * 64 * 8);
  // Matrix-vector: [N,2] @ [2] is 2 FLOPs per multiply-add.
  Graph c = typed(churnGraph());
  EXPECT_EQ(nodeFlops(c, 4, 10), 2.0 * 10 * 2);
  EXPECT_GT(graphFlops(g, 64), flops(OpKind::MatMul, 0));
}
