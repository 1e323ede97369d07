//===- NonFiniteOriginTest.cpp - Help for a value that became NaN ---------===//
///
/// \file
/// nonFiniteHelp dispatches by op family (leaves: data or weights; losses on
/// probabilities: swapped or unnormalized arguments; anything else: the
/// generic advice), and findNonFinite names the first bad node.
///
//===----------------------------------------------------------------------===//

#include "runtime/NonFiniteOrigin.h"
#include "runtime/Trainer.h"

#include "TestGraphs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace nn;
using namespace nn::test;

namespace {

const char *kGeneric = "check the data for NaN, or try a smaller learning rate";

/// p = [N,1] input, y = [N,1] label; a loss node `k` over (first, second).
struct LossGraph {
  Graph g;
  NodeId p, y, loss;
  LossGraph(OpKind k, bool swapped) {
    p = leaf(g, OpKind::Input, "p", f32({kBatch, 1}));
    y = leaf(g, OpKind::Label, "y", f32({kBatch, 1}));
    loss = swapped ? op(g, k, {y, p}, f32({})) : op(g, k, {p, y}, f32({}));
  }
};

std::vector<Value> valuesFor(const Graph &g, const Value &p, const Value &y) {
  std::vector<Value> v(static_cast<size_t>(g.size()));
  v[0] = p;
  v[1] = y;
  return v;
}

TEST(NonFiniteOrigin, LeavesPointAtTheDataOrTheWeights) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 2}));
  NodeId w = leaf(g, OpKind::Param, "w", f32({2}));
  NodeId c = constant(g, 1.0);
  std::vector<Value> v(3);
  EXPECT_EQ(nonFiniteHelp(g, x, v),
            "remove the NaN and infinities from the data, or fill them in");
  EXPECT_EQ(nonFiniteHelp(g, w, v),
            "the weights held them before the step: check the initializer "
            "of 'w' (or the --init file)");
  EXPECT_EQ(nonFiniteHelp(g, c, v), kGeneric);
}

TEST(NonFiniteOrigin, LossOnProbabilitiesGivenLabelsFirst) {
  LossGraph lg(OpKind::Bce, /*swapped=*/true);
  std::vector<Value> v = valuesFor(lg.g, val({1, 1}, {0.5}), val({1, 1}, {1}));
  EXPECT_EQ(nonFiniteHelp(lg.g, lg.loss, v),
            "bce takes the probabilities first and the labels second: write "
            "bce(p, y)");
}

TEST(NonFiniteOrigin, LossOnProbabilitiesGivenLogits) {
  LossGraph bce(OpKind::Bce, false);
  std::vector<Value> v = valuesFor(bce.g, val({2, 1}, {0.5, 3.5}),
                                   val({2, 1}, {1, 0}));
  EXPECT_EQ(nonFiniteHelp(bce.g, bce.loss, v),
            "bce takes probabilities in [0, 1], but its first argument holds "
            "3.5: apply sigmoid first, or give the logits to bce_logits");
  LossGraph ce(OpKind::CrossEntropy, false);
  v = valuesFor(ce.g, val({1, 1}, {-2}), val({1, 1}, {0}));
  EXPECT_EQ(nonFiniteHelp(ce.g, ce.loss, v),
            "cross_entropy takes probabilities in [0, 1], but its first "
            "argument holds -2: apply softmax first, or give the logits to "
            "softmax_cross_entropy");
  // Probabilities in range: nothing points at the arguments.
  v = valuesFor(bce.g, val({1, 1}, {0}), val({1, 1}, {1}));
  EXPECT_EQ(nonFiniteHelp(bce.g, bce.loss, v), kGeneric);
}

TEST(NonFiniteOrigin, OtherOpsGetTheGenericAdvice) {
  LossGraph mse(OpKind::Mse, /*swapped=*/true);
  std::vector<Value> v = valuesFor(mse.g, val({1, 1}, {5}), val({1, 1}, {1}));
  EXPECT_EQ(nonFiniteHelp(mse.g, mse.loss, v), kGeneric);
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 1}));
  NodeId e = op(g, opOf(ElementwiseOp::Exp), {x}, f32({kBatch, 1}));
  EXPECT_EQ(nonFiniteHelp(g, e, std::vector<Value>(2)), kGeneric);
}

TEST(NonFiniteOrigin, FindNamesTheFirstBadNode) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 2}));
  NodeId e = op(g, opOf(ElementwiseOp::Exp), {x}, f32({kBatch, 2}));
  op(g, opOf(ElementwiseOp::Neg), {e}, f32({kBatch, 2}));
  TensorMap batch;
  batch["x"] = toTensor(val({1, 2}, {1.0, 1000.0}));
  std::string help;
  EXPECT_EQ(findNonFinite(g, {}, batch, &help),
            "op 'exp' (node %1) produced 1 non-finite value (0 NaN, 1 +inf, "
            "0 -inf) of 2, shape [1,2]");
  EXPECT_EQ(help, kGeneric);
  batch["x"] = toTensor(val({1, 2}, {std::nan(""), 0.0}));
  EXPECT_EQ(findNonFinite(g, {}, batch, &help),
            "input 'x' holds 1 non-finite value (1 NaN, 0 +inf, 0 -inf) of 2, "
            "shape [1,2]: the data holds them");
  batch["x"] = toTensor(val({1, 2}, {1.0, 2.0}));
  EXPECT_EQ(findNonFinite(g, {}, batch, nullptr), "");
}

} // namespace
