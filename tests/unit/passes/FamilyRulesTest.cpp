//===- FamilyRulesTest.cpp - One rule per op family -----------------------===//
///
/// \file
/// Shape inference and FLOP counting treat the elementwise family by one
/// generic rule: every elementwise op, whatever it is, broadcasts its f32
/// operands (numpy, trailing dimensions) and costs one FLOP per element of
/// its result. A new elementwise row of Ops.def needs no case here.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "passes/FlopCount.h"
#include "passes/FuseShapes.h"
#include "passes/InferShapes.h"
#include "passes/ShapeRules.h"

#include <gtest/gtest.h>

#include <map>

using namespace nn;
using namespace nn::test;

namespace {

/// `k` applied to leaves of these types, typed by inferNodeType.
ShapeResult ruleOf(OpKind k, const std::vector<TensorType> &operands,
                   Graph &g) {
  std::vector<NodeId> ins;
  for (size_t i = 0; i < operands.size(); ++i)
    ins.push_back(leaf(g, OpKind::Input, "x" + std::to_string(i), operands[i]));
  NodeId id = op(g, k, ins);
  ShapeResult r = inferNodeType(g, g[id]);
  g[id].type = r.type;
  return r;
}

std::vector<OpKind> elementwiseOps() {
  std::vector<OpKind> ops;
  for (OpKind k : allOps())
    if (family(k) == OpFamily::Elementwise)
      ops.push_back(k);
  return ops;
}

} // namespace

TEST(FamilyRules, EveryElementwiseOpBroadcasts) {
  ASSERT_FALSE(elementwiseOps().empty());
  for (OpKind k : elementwiseOps()) {
    Graph g;
    int arity = opInfo(k).arity;
    std::vector<TensorType> ts = {TensorType::of({kBatch, 3})};
    if (arity == 2)
      ts.push_back(TensorType::of({3}));
    ShapeResult r = ruleOf(k, ts, g);
    EXPECT_EQ(r.error, "") << mnemonic(k);
    EXPECT_EQ(r.type, TensorType::of({kBatch, 3})) << mnemonic(k);
    // One FLOP per element of the result.
    EXPECT_EQ(nodeFlops(g, g.size() - 1, 8), 24.0) << mnemonic(k);
  }
}

TEST(FamilyRules, EveryElementwiseOpNeedsF32) {
  for (OpKind k : elementwiseOps()) {
    Graph g;
    std::vector<TensorType> ts(opInfo(k).arity,
                               TensorType::of({kBatch}, DType::I32));
    ShapeResult r = ruleOf(k, ts, g);
    EXPECT_EQ(r.error, std::string("'") + mnemonic(k) +
                           "' needs f32 operands, got i32[N]");
  }
}

TEST(FamilyRules, BinaryMismatchNamesBothOperands) {
  for (OpKind k : elementwiseOps()) {
    if (opInfo(k).arity != 2)
      continue;
    Graph g;
    ShapeResult r =
        ruleOf(k, {TensorType::of({kBatch, 3}), TensorType::of({4})}, g);
    EXPECT_EQ(r.error,
              std::string("cannot broadcast f32[N,3] and f32[4] in '") +
                  mnemonic(k) + "'");
  }
}

TEST(FamilyRules, UpdatesShareOneRule) {
  // Per element: mu * v + g and w - lr * s: 2; b * m + (1 - b) * g: 4;
  // b * v + (1 - b) * g * g: 5; w * d - s * (m / (sqrt(v) / c + e)): 7.
  const std::map<std::string, double> flops = {{"fused.sgd_momentum", 2},
                                               {"fused.sgd", 2},
                                               {"fused.adam_moment", 4},
                                               {"fused.adam_variance", 5},
                                               {"fused.adam", 7}};
  for (OpKind k : allOps()) {
    if (family(k) != OpFamily::Update)
      continue;
    size_t tensors = updateTensorCount(member<UpdateOp>(k));
    std::vector<TensorType> ts(static_cast<size_t>(opInfo(k).arity),
                               TensorType::scalar());
    for (size_t i = 0; i < tensors; ++i)
      ts[i] = TensorType::of({4, 2});
    Graph g;
    ShapeResult r = ruleOf(k, ts, g);
    EXPECT_EQ(r.error, "") << mnemonic(k);
    EXPECT_EQ(r.type, TensorType::of({4, 2}));
    ASSERT_TRUE(flops.count(mnemonic(k))) << mnemonic(k);
    EXPECT_EQ(nodeFlops(g, g.size() - 1, 1), 8 * flops.at(mnemonic(k)))
        << mnemonic(k);
    // Every tensor operand has operand 0's shape; the others are scalars.
    for (size_t i = 1; i < ts.size(); ++i) {
      std::vector<TensorType> bad = ts;
      bad[i] = TensorType::of({4, 3});
      Graph gb;
      r = ruleOf(k, bad, gb);
      EXPECT_NE(r.error, "") << mnemonic(k) << " operand " << i;
      if (i == 1)
        EXPECT_EQ(r.error, std::string("'") + mnemonic(k) +
                               "' operands 0 and 1 differ: f32[4,2] and "
                               "f32[4,3]");
    }
  }
}

TEST(FamilyRules, BroadcastAllFoldsBroadcastDims) {
  BroadcastResult r = broadcastAll({{kBatch, 1}, {3}, {}});
  EXPECT_FALSE(r.failedAt);
  EXPECT_EQ(r.dims, (std::vector<int64_t>{kBatch, 3}));
  EXPECT_TRUE(broadcastAll({}).dims.empty());
  r = broadcastAll({{2, 3}, {1}, {4}, {3}});
  ASSERT_TRUE(r.failedAt);
  EXPECT_EQ(*r.failedAt, 2u);
  EXPECT_EQ(r.dims, (std::vector<int64_t>{2, 3})); // those before it
}
