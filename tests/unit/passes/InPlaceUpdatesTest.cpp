//===- InPlaceUpdatesTest.cpp - Which updates may be computed in place ----===//

#include "TestGraphs.h"

#include "passes/InPlaceUpdates.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

/// SGD with momentum on one vector, unfused: loss = sum(w * w) read first,
/// then m' = 0.9 m + w and w' = w - 0.1 m'.
struct Step {
  Graph g;
  NodeId w, m, loss, newM, newW;
};

Step sgdStep() {
  Step s;
  Graph &g = s.g;
  s.w = param(g, "w", {4}, false);
  s.m = leaf(g, OpKind::State, "m", TensorType::of({4}));
  s.loss = op(g, OpKind::Sum, {op(g, OpKind::Mul, {s.w, s.w})}, "loss");
  g[s.loss].axis = -1;
  s.newM = op(g, OpKind::Add,
              {op(g, OpKind::Mul, {constant(g, 0.9), s.m}), s.w});
  s.newW = op(g, OpKind::Sub,
              {s.w, op(g, OpKind::Mul, {constant(g, 0.1), s.newM})});
  g.outputs.push_back({"loss", s.loss});
  g.updates.push_back({s.m, s.newM});
  g.updates.push_back({s.w, s.newW});
  return s;
}

std::vector<NodeId> inPlaceOf(const Graph &g) {
  DiagEngine d;
  Graph typed = inferShapes(g, d);
  EXPECT_FALSE(d.hasErrors()) << d.str();
  return inPlaceUpdates(typed);
}

TEST(InPlaceUpdates, SgdUpdatesWriteTheirLeaves) {
  Step s = sgdStep();
  std::vector<NodeId> into = inPlaceOf(s.g);
  ASSERT_EQ(into.size(), s.g.nodes.size());
  EXPECT_EQ(into[s.newM], s.m);
  EXPECT_EQ(into[s.newW], s.w);
  for (NodeId id = 0; id < s.g.size(); ++id)
    if (id != s.newM && id != s.newW) {
      EXPECT_EQ(into[id], -1) << id;
    }
}

TEST(InPlaceUpdates, NotWhenTheOldValueIsReadLater) {
  // A node after w' reads w: w' needs its own buffer; m' still qualifies.
  Step s = sgdStep();
  NodeId late = op(s.g, OpKind::Mul, {s.w, s.w}, "late");
  s.g.outputs.push_back({"late", late});
  std::vector<NodeId> into = inPlaceOf(s.g);
  EXPECT_EQ(into[s.newW], -1);
  EXPECT_EQ(into[s.newM], s.m);
}

TEST(InPlaceUpdates, NotForOutputs) {
  Step a = sgdStep(); // an output shows w before the update
  a.g.outputs.push_back({"w", a.w});
  EXPECT_EQ(inPlaceOf(a.g)[a.newW], -1);
  Step b = sgdStep(); // the new value is an output itself
  b.g.outputs.push_back({"new_m", b.newM});
  EXPECT_EQ(inPlaceOf(b.g)[b.newM], -1);
}

TEST(InPlaceUpdates, NotForKernelsThatMixElements) {
  // w' = w @ r (4 x 4): element i of w' reads every element of w.
  Graph g;
  NodeId w = param(g, "w", {4, 4}, true);
  NodeId r = param(g, "r", {4, 4}, true);
  NodeId loss = op(g, OpKind::Sum, {w}, "loss");
  g[loss].axis = -1;
  NodeId rotated = op(g, OpKind::MatMul, {w, r});
  g.outputs.push_back({"loss", loss});
  g.updates.push_back({w, rotated});
  EXPECT_EQ(inPlaceOf(g)[rotated], -1);
}

TEST(InPlaceUpdates, NotForAValueThatUpdatesTwoLeaves) {
  Step s = sgdStep();
  NodeId v = leaf(s.g, OpKind::State, "v", TensorType::of({4}));
  s.g.updates.push_back({v, s.newM});
  EXPECT_EQ(inPlaceOf(s.g)[s.newM], -1);
}

} // namespace
