//===- ScalarElementwiseTest.cpp - The scalar view of elementwise nodes ---===//
///
/// \file
/// explain --scalar writes an unfused unary node as a call by mnemonic, a
/// binary one as its arithmetic, a fused.elementwise body as infix text,
/// with the reference interpreter's values; on a hand-built graph.
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarStep.h"

#include "../interp/TestGraphs.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

NodeId named(Graph &g, NodeId id, const std::string &name) {
  g.nodes[static_cast<size_t>(id)].name = name;
  return id;
}

TEST(ScalarElementwise, UnaryBinaryAndFused) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 2}));
  NodeId w = leaf(g, OpKind::Param, "w", f32({2}));
  NodeId s = named(g, op(g, opOf(ElementwiseOp::Add), {x, w}, f32({kBatch, 2})),
                   "s");
  named(g, op(g, opOf(ElementwiseOp::Neg), {s}, f32({kBatch, 2})), "n");
  Node f = makeNode(OpKind::Elementwise, {x, w});
  f.type = f32({kBatch, 2});
  f.name = "f";
  f.body = {{opOf(ElementwiseOp::Mul), {0, 1}, 0},
            {OpKind::Const, {}, 2.0},
            {opOf(ElementwiseOp::Sub), {-1, -2}, 0}};
  g.add(f);
  ValueMap leaves;
  leaves["x"] = val({1, 2}, {1.0, 3.0});
  leaves["w"] = val({2}, {-0.5, 2.0});
  std::vector<ScalarLine> lines = scalarStep(g, leaves);
  std::vector<std::string> want = {
      "s[A,1] = x[A,1] + w[1] = 1 + (-0.5) = 0.5",
      "s[A,2] = x[A,2] + w[2] = 3 + 2 = 5",
      "n[A,1] = neg(s[A,1]) = neg(0.5) = -0.5",
      "n[A,2] = neg(s[A,2]) = neg(5) = -5",
      "f[A,1] = x[A,1] * w[1] - 2 = 1 * (-0.5) - 2 = -2.5",
      "f[A,2] = x[A,2] * w[2] - 2 = 3 * 2 - 2 = 4",
  };
  ASSERT_EQ(lines.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(lines[i].text, want[i]);
  EXPECT_EQ(lines[4].value, -2.5);
  EXPECT_EQ(lines[4].node, 4);
}

} // namespace
