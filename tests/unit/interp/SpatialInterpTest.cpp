//===- SpatialInterpTest.cpp - The interpreter's spatial kernels ----------===//
///
/// \file
/// conv2d, pooling and the channel ops on the interpreter (the oracle of
/// every backend) against values worked out by hand from ir/Ops.def.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "passes/SpatialShapes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

/// The value of node `k` (operands the leaves "x", "w", "b"... in order)
/// with window `win`, shape `shape`, act and eps; the type from the rules.
Value runSpatial(OpKind k, std::vector<std::pair<std::string, Value>> ins,
                 Window win = {}, std::vector<int64_t> shape = {},
                 Activation act = Activation::None, double param = 0) {
  Graph g;
  std::vector<NodeId> ids;
  ValueMap leaves;
  std::vector<TensorType> types;
  for (auto &[name, v] : ins) {
    ids.push_back(leaf(g, OpKind::Param, name, f32(v.shape)));
    types.push_back(f32(v.shape));
    leaves[name] = v;
  }
  Node n = makeNode(k, ids);
  n.win = win;
  n.shape = shape;
  n.act = act;
  n.param = param;
  std::string err;
  n.type = spatialOpType(n, types, err);
  EXPECT_EQ(err, "");
  NodeId id = g.add(n);
  return Interpreter(g).run(leaves)[id];
}

Window window(int64_t k, int64_t s = 1, int64_t pad = 0) {
  Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  w.padding[0] = w.padding[1] = pad;
  return w;
}

// x = 1..9 as a 3x3 image, w = [[1, 0], [0, -1]]: y[i,j] = x[i,j] -
// x[i+1,j+1] = -4 everywhere, plus the bias 0.5.
TEST(SpatialInterp, Conv2dWindowsAndBias) {
  Value x = val({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Value w = val({1, 1, 2, 2}, {1, 0, 0, -1});
  Value y = runSpatial(OpKind::Conv2d,
                       {{"x", x}, {"w", w}, {"b", val({1}, {0.5})}},
                       window(2));
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(y.data, (std::vector<double>{-3.5, -3.5, -3.5, -3.5}));
  // Padding 1, stride 2: outputs at (-1,-1), (-1,1), (1,-1), (1,1) of the
  // padded grid; w's -1 tap reads x[0,0], x[0,2], x[2,0], x[2,2] and its 1
  // tap is in the padding except for the last window (x[1,1] = 5).
  Value p = runSpatial(OpKind::Conv2d, {{"x", x}, {"w", w}}, window(2, 2, 1));
  EXPECT_EQ(p.data, (std::vector<double>{-1, -3, -7, 5 - 9}));
  // relu applied after the bias.
  Value r = runSpatial(OpKind::Conv2d, {{"x", x}, {"w", w}}, window(2, 2, 1),
                       {}, Activation::Relu);
  EXPECT_EQ(r.data, (std::vector<double>{0, 0, 0, 0}));
}

// Two groups: output channel 0 sees input channel 0 only, 1 sees 1.
TEST(SpatialInterp, Conv2dGroups) {
  Value x = val({1, 2, 1, 1}, {3, 5});
  Value w = val({2, 1, 1, 1}, {2, 10});
  Window win = window(1);
  win.groups = 2;
  Value y = runSpatial(OpKind::Conv2d, {{"x", x}, {"w", w}}, win);
  EXPECT_EQ(y.data, (std::vector<double>{6, 50}));
}

// The gradients of the first conv of Conv2dWindowsAndBias with dy = 1: each
// input gets the sum of the taps that read it; each tap the sum of the
// inputs it read.
TEST(SpatialInterp, Conv2dGradients) {
  Value x = val({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Value w = val({1, 1, 2, 2}, {1, 0, 0, -1});
  Value dy = val({1, 1, 2, 2}, {1, 1, 1, 1});
  Value dx = runSpatial(OpKind::Conv2dGradInput, {{"dy", dy}, {"w", w}},
                        window(2), {1, 1, 3, 3});
  EXPECT_EQ(dx.data, (std::vector<double>{1, 1, 0, 1, 0, -1, 0, -1, -1}));
  Value dw = runSpatial(OpKind::Conv2dGradWeight, {{"x", x}, {"dy", dy}},
                        window(2));
  EXPECT_EQ(dw.data, (std::vector<double>{1 + 2 + 4 + 5, 2 + 3 + 5 + 6,
                                          4 + 5 + 7 + 8, 5 + 6 + 8 + 9}));
  // With relu folded in: where a <= 0 the gradient stops.
  Value a = val({1, 1, 2, 2}, {1, -1, 0, 2});
  Value dwm = runSpatial(OpKind::Conv2dGradWeight,
                         {{"x", x}, {"dy", dy}, {"a", a}}, window(2), {},
                         Activation::Relu);
  EXPECT_EQ(dwm.data, (std::vector<double>{1 + 5, 2 + 6, 4 + 8, 5 + 9}));
  Value db = runSpatial(OpKind::ChannelSum, {{"dy", dy}, {"a", a}}, {}, {},
                        Activation::Relu);
  EXPECT_EQ(db.data, (std::vector<double>{2}));
}

TEST(SpatialInterp, PoolingAndRouting) {
  // Ties go to the first maximum in row-major order, as PyTorch.
  Value x = val({1, 1, 2, 4}, {1, 7, 3, 3, 7, 2, 0, -1});
  Value m = runSpatial(OpKind::MaxPool2d, {{"x", x}}, window(2, 2));
  EXPECT_EQ(m.data, (std::vector<double>{7, 3}));
  Value dy = val({1, 1, 1, 2}, {10, 20});
  Value dx = runSpatial(OpKind::MaxPool2dGrad, {{"dy", dy}, {"x", x}},
                        window(2, 2));
  EXPECT_EQ(dx.data, (std::vector<double>{0, 10, 20, 0, 0, 0, 0, 0}));
  // Average with padding 1 counts the padding (count_include_pad).
  Value a = runSpatial(OpKind::AvgPool2d, {{"x", x}}, window(2, 2, 1));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{0.25, 2.5, 0.75, 1.75, 0.5, -0.25}));
  Value da = runSpatial(OpKind::AvgPool2dGrad,
                        {{"dy", val({1, 1, 2, 3}, {4, 8, 12, 16, 20, 24})}},
                        window(2, 2, 1), {1, 1, 2, 4});
  EXPECT_EQ(da.data, (std::vector<double>{1, 2, 2, 3, 4, 5, 5, 6}));
}

// Channel 0 holds 1, 2, 3, 4 over two samples; channel 1 holds 5 everywhere.
TEST(SpatialInterp, ChannelStatistics) {
  Value x = val({2, 2, 2}, {1, 2, 5, 5, 3, 4, 5, 5});
  EXPECT_EQ(runSpatial(OpKind::ChannelSum, {{"x", x}}).data,
            (std::vector<double>{10, 20}));
  EXPECT_EQ(runSpatial(OpKind::ChannelMean, {{"x", x}}).data,
            (std::vector<double>{2.5, 5}));
  Value var = runSpatial(OpKind::ChannelVar, {{"x", x}});
  EXPECT_DOUBLE_EQ(var.data[0], 5.0 / 3); // unbiased: 5 / (4 - 1)
  EXPECT_EQ(var.data[1], 0);
  Value s = val({2}, {2, -1}), t = val({2}, {1, 0});
  EXPECT_EQ(runSpatial(OpKind::ChannelAffine, {{"x", x}, {"s", s}, {"t", t}})
                .data,
            (std::vector<double>{3, 5, -5, -5, 7, 9, -5, -5}));
  // Batch statistics: biased variance 1.25 for channel 0.
  Value rm = val({2}, {0, 0}), rv = val({2}, {1, 1});
  Value xh = runSpatial(OpKind::BatchNormalize,
                        {{"x", x}, {"rm", rm}, {"rv", rv}}, {}, {},
                        Activation::None, 1e-5);
  double sd = std::sqrt(1.25 + 1e-5);
  EXPECT_DOUBLE_EQ(xh.data[0], -1.5 / sd);
  EXPECT_DOUBLE_EQ(xh.data[5], 1.5 / sd);
  EXPECT_EQ(xh.data[2], 0);
  // The gradient of sum(xh * c) for c = dy: zero when dy is constant per
  // channel (normalization removes shifts).
  Value dy = val({2, 2, 2}, {3, 3, 1, 1, 3, 3, 1, 1});
  Value dx = runSpatial(OpKind::BatchNormalizeGrad, {{"dy", dy}, {"x", x}},
                        {}, {}, Activation::None, 1e-5);
  for (double v : dx.data)
    EXPECT_NEAR(v, 0, 1e-12);
}

TEST(SpatialInterp, ShapeErrors) {
  Node n = makeNode(OpKind::Conv2d, {0, 1});
  n.win = window(5);
  std::string err;
  spatialOpType(n, {f32({kBatch, 1, 4, 4}), f32({8, 1, 5, 5})}, err);
  EXPECT_EQ(err, "'conv2d' kernel 5 x 5 is larger than its padded input 4 x 4");
  err.clear();
  n.win = window(3);
  spatialOpType(n, {f32({kBatch, 2, 4, 4}), f32({8, 1, 3, 3})}, err);
  EXPECT_EQ(err, "'conv2d' kernel f32[8,1,3,3] expects 1 input channels, "
                 "but its input f32[N,2,4,4] has 2");
}

} // namespace
