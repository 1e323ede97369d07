//===- InterpKernelsTest.cpp - The interpreter's per-family kernels -------===//
///
/// \file
/// The interpreter broadcasts exactly as shape inference types
/// (broadcastDims), evaluates every elementwise op through the one math
/// template, and every update through emitUpdate.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/ElementwiseMath.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"
#include "passes/InferShapes.h"

#include "TestGraphs.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

/// A value of shape `s` holding 1, 2, 3, ...
Value iota(const std::vector<int64_t> &s) {
  Value v{s, {}};
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  for (int64_t i = 0; i < n; ++i)
    v.data.push_back(static_cast<double>(i + 1));
  return v;
}

TEST(InterpKernels, BroadcastsAsShapeInferenceTypes) {
  std::vector<std::vector<int64_t>> shapes = {
      {}, {1}, {3}, {2, 1}, {1, 3}, {2, 3}, {4, 2, 3}, {4, 1, 1}, {2}};
  for (const auto &a : shapes)
    for (const auto &b : shapes) {
      Value va = iota(a), vb = iota(b);
      std::optional<std::vector<int64_t>> want = broadcastDims(a, b);
      if (!want) {
        EXPECT_THROW(interp::elementwise(ElementwiseOp::Add, {&va, &vb}),
                     InternalError);
        continue;
      }
      Value r = interp::elementwise(ElementwiseOp::Add, {&va, &vb});
      EXPECT_EQ(r.shape, *want);
    }
}

TEST(InterpKernels, BroadcastValues) {
  Value col = val({2, 1}, {10, 20}), row = val({3}, {1, 2, 3});
  Value r = interp::elementwise(ElementwiseOp::Sub, {&col, &row});
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.data, (std::vector<double>{9, 8, 7, 19, 18, 17}));
}

TEST(InterpKernels, EveryElementwiseOpIsItsTemplate) {
  DoubleEmitter e;
  Value a = val({4}, {-1.5, 0.0, 0.25, 3.0}), b = val({4}, {2, -4, 0.5, 1});
  for (OpKind k : allOps()) {
    if (family(k) != OpFamily::Elementwise)
      continue;
    ElementwiseOp op = member<ElementwiseOp>(k);
    bool unary = opInfo(k).arity == 1;
    Value r = unary ? interp::elementwise(op, {&a})
                    : interp::elementwise(op, {&a, &b});
    ASSERT_EQ(r.numel(), 4) << mnemonic(k);
    for (int64_t i = 0; i < 4; ++i) {
      double in[2] = {a.data[i], b.data[i]};
      double want = emitElementwise(
          e, op, std::span<const double>(in, unary ? 1 : 2));
      if (std::isnan(want))
        EXPECT_TRUE(std::isnan(r.data[i])) << mnemonic(k);
      else
        EXPECT_EQ(r.data[i], want) << mnemonic(k) << " element " << i;
    }
  }
}

TEST(InterpKernels, UpdatesFollowEmitUpdate) {
  Value w = val({2}, {1.0, -2.0}), g = val({2}, {0.5, 4.0});
  Value lr = Value::scalar(0.1), mu = Value::scalar(0.9);
  Value sgd = interp::update(UpdateOp::Sgd, {&w, &g, &lr});
  EXPECT_EQ(sgd.data, (std::vector<double>{1.0 - 0.1 * 0.5, -2.0 - 0.1 * 4.0}));
  Value mom = interp::update(UpdateOp::SgdMomentum, {&w, &g, &mu});
  EXPECT_EQ(mom.data, (std::vector<double>{0.9 * 1.0 + 0.5, 0.9 * -2.0 + 4.0}));
}

} // namespace
