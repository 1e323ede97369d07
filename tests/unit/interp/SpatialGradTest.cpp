//===- SpatialGradTest.cpp - Spatial gradient rules against differences --===//
///
/// \file
/// Gradient checks of passes/grad/SpatialGrad.cpp on the interpreter, by
/// central differences in double (runtime/GradCheck.h): conv2d with bias in
/// every window form (stride, padding, dilation, groups, a 5 x 5 and a
/// non-square kernel), max pooling on distinct values, average pooling with
/// padding, batch norm's training form with its scale and shift, reshape,
/// and a small CNN ending in softmax cross-entropy. Every element of every
/// operand is checked, and none may sit at a kink (the checker's one-sided
/// leniency must not hide a wrong rule). Then the ops autodiff does not
/// differentiate: located errors from autodiff and check-model; and
/// batch norm's buffers, which get no gradient and no L2 penalty.
///
//===----------------------------------------------------------------------===//

#include "GradCase.h"

#include "ir/Support.h"
#include "passes/AddL2.h"
#include "passes/Autodiff.h"
#include "passes/CheckModel.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

using Pair = std::array<int64_t, 2>;

/// A window of kernel `k`, stride `s`, padding `p`, dilation `d`.
Window window(Pair k, Pair s = {1, 1}, Pair p = {0, 0}, Pair d = {1, 1},
              int64_t groups = 1) {
  Window w;
  for (int a = 0; a < 2; ++a) {
    w.kernel[a] = k[a];
    w.stride[a] = s[a];
    w.padding[a] = p[a];
    w.dilation[a] = d[a];
  }
  w.groups = groups;
  return w;
}

/// Spatial op `k` of `in` with window `win` and Node::shape `shape`.
NodeId spatial(GradCase &c, OpKind k, std::vector<NodeId> in,
               const Window &win = {}, std::vector<int64_t> shape = {}) {
  NodeId id = c.add(k, std::move(in));
  c.g[id].win = win;
  c.g[id].shape = std::move(shape);
  return id;
}

/// Every element of every param checked (`params` of them, `elements` in
/// all), all passing, none at a kink.
void expectAllPass(const GradCheckReport &r, size_t elements,
                   const std::string &what) {
  expectPasses(r, what);
  EXPECT_EQ(r.entries.size(), elements) << what;
  EXPECT_EQ(r.kinks, 0) << what << "\n" << formatGradCheck(r);
}

int64_t numel(const std::vector<int64_t> &dims) {
  return TensorType::of(dims).numel();
}

/// A Param with distinct values spread over [-1, 1), in an order that is
/// not sorted along any axis: ((i * 37) mod n) scaled (37 is prime and
/// does not divide the sizes used here). Pooling on it has no ties.
NodeId distinctParam(GradCase &c, const std::string &name,
                     std::vector<int64_t> dims) {
  NodeId id = c.param(name, dims, -1, 1);
  std::vector<double> &v = c.leaves[name].data;
  const int64_t n = static_cast<int64_t>(v.size());
  for (int64_t i = 0; i < n; ++i)
    v[i] = -1.0 + 2.0 * static_cast<double>((i * 37) % n) /
                      static_cast<double>(n);
  return id;
}

struct ConvCase {
  const char *what;
  std::vector<int64_t> x; // [N,C,H,W]
  int64_t out;            // output channels
  Window win;
};

} // namespace

// dx (the transposed convolution), dw (the correlation of x and dy) and db
// (the channel sum of dy) of every window form.
TEST(SpatialGrad, Conv2dWithBiasInEveryWindowForm) {
  const ConvCase cases[] = {
      {"3x3", {2, 2, 5, 5}, 3, window({3, 3})},
      {"3x3 stride 2 padding 1", {2, 2, 6, 6}, 2,
       window({3, 3}, {2, 2}, {1, 1})},
      {"3x3 padding 1 dilation 2", {1, 2, 6, 6}, 2,
       window({3, 3}, {1, 1}, {1, 1}, {2, 2})},
      {"3x3 padding 1 groups 2", {2, 4, 5, 5}, 4,
       window({3, 3}, {1, 1}, {1, 1}, {1, 1}, 2)},
      {"5x5 padding 2", {1, 2, 6, 6}, 2, window({5, 5}, {1, 1}, {2, 2})},
      {"3x2 stride 2x1 padding 1x0", {2, 2, 6, 5}, 3,
       window({3, 2}, {2, 1}, {1, 0})},
      {"2x2 stride 2 padding 0 (windows do not overlap)", {1, 3, 4, 6}, 2,
       window({2, 2}, {2, 2})},
  };
  for (const ConvCase &k : cases) {
    GradCase c;
    std::vector<int64_t> wd = {k.out, k.x[1] / k.win.groups, k.win.kernel[0],
                               k.win.kernel[1]};
    NodeId x = c.param("x", k.x, -1, 1);
    NodeId w = c.param("w", wd, -1, 1);
    NodeId b = c.param("b", {k.out}, -1, 1);
    NodeId y = spatial(c, OpKind::Conv2d, {x, w, b}, k.win);
    GradCheckReport r = c.check(c.weightedSum(y), 0);
    expectAllPass(r, numel(k.x) + numel(wd) + k.out, k.what);
  }
}

TEST(SpatialGrad, Conv2dWithoutBias) {
  GradCase c;
  NodeId x = c.param("x", {2, 2, 4, 4}, -1, 1);
  NodeId w = c.param("w", {3, 2, 2, 2}, -1, 1);
  NodeId y = spatial(c, OpKind::Conv2d, {x, w}, window({2, 2}, {1, 1}, {1, 1}));
  expectAllPass(c.check(c.weightedSum(y), 0), 64 + 24, "conv2d without bias");
}

// Only the operands that need a gradient get one: a conv2d on an input
// builds no data gradient.
TEST(SpatialGrad, Conv2dOnAnInputBuildsNoDataGradient) {
  GradCase c;
  NodeId x = c.input("x", {2, 4, 4}, 3);
  NodeId w = c.param("w", {2, 2, 3, 3}, -1, 1);
  NodeId y = spatial(c, OpKind::Conv2d, {x, w}, window({3, 3}, {1, 1}, {1, 1}));
  // sum(y * y): weightedSum's fixed weights have no batch axis.
  NodeId loss = c.add(OpKind::Sum, {c.add(OpKind::Mul, {y, y})});
  expectAllPass(c.check(loss, 0), 36, "conv2d on an input");
  DiagEngine d;
  Graph grad = differentiate(inferShapes(c.g, d), nullptr);
  int dataGrads = 0, weightGrads = 0;
  for (const Node &n : grad.nodes) {
    dataGrads += n.op == OpKind::Conv2dGradInput;
    weightGrads += n.op == OpKind::Conv2dGradWeight;
  }
  EXPECT_EQ(dataGrads, 0);
  EXPECT_EQ(weightGrads, 1);
}

// dy goes to the window's maximum; overlapping windows add up.
TEST(SpatialGrad, MaxPool2dOnDistinctValues) {
  const ConvCase cases[] = {
      {"2x2 stride 2", {2, 2, 4, 4}, 0, window({2, 2}, {2, 2})},
      {"3x3 stride 2 padding 1 (overlapping)", {1, 2, 5, 5}, 0,
       window({3, 3}, {2, 2}, {1, 1})},
      {"3x3 stride 1 (overlapping)", {1, 1, 5, 6}, 0, window({3, 3})},
      {"2x3 stride 1x2", {2, 1, 4, 7}, 0, window({2, 3}, {1, 2})},
  };
  for (const ConvCase &k : cases) {
    GradCase c;
    NodeId x = distinctParam(c, "x", k.x);
    NodeId y = spatial(c, OpKind::MaxPool2d, {x}, k.win);
    GradCheckReport r = c.check(c.weightedSum(y), 0);
    expectAllPass(r, numel(k.x), k.what);
    // Elements that no window's maximum is have gradient 0.
    int zeros = 0;
    for (const GradCheckEntry &e : r.entries)
      zeros += e.analytic == 0.0;
    EXPECT_GT(zeros, 0) << k.what;
  }
}

// dy spread evenly over its window, padding counted.
TEST(SpatialGrad, AvgPool2dWithPadding) {
  const ConvCase cases[] = {
      {"3x3 stride 2 padding 1", {2, 2, 5, 5}, 0,
       window({3, 3}, {2, 2}, {1, 1})},
      {"2x2 stride 2 padding 1", {1, 1, 4, 4}, 0,
       window({2, 2}, {2, 2}, {1, 1})},
      {"2x2 stride 1 (overlapping)", {1, 2, 4, 4}, 0, window({2, 2})},
      {"3x2 stride 1x2 padding 1x0", {2, 1, 5, 6}, 0,
       window({3, 2}, {1, 2}, {1, 0})},
  };
  for (const ConvCase &k : cases) {
    GradCase c;
    NodeId x = c.param("x", k.x, -1, 1);
    NodeId y = spatial(c, OpKind::AvgPool2d, {x}, k.win);
    expectAllPass(c.check(c.weightedSum(y), 0), numel(k.x), k.what);
  }
}

// channel_affine(batch_normalize(x, rm, rv), gamma, beta) with the running
// statistics' updates in the graph, as the frontend lowers batch_norm: x,
// gamma and beta are checked; the running statistics are buffers (no
// gradient, no check), and autodiff keeps their updates.
TEST(SpatialGrad, BatchNormTrainingFormWithScaleAndShift) {
  for (std::vector<int64_t> dims :
       {std::vector<int64_t>{3, 2, 2, 3}, std::vector<int64_t>{5, 3}}) {
    const int64_t ch = dims[1];
    GradCase c;
    NodeId x = c.param("x", dims, -2, 2);
    NodeId rm = c.param("rm", {ch}, -1, 1);
    NodeId rv = c.param("rv", {ch}, 0.5, 2);
    c.g[rm].buffer = c.g[rv].buffer = true;
    NodeId gamma = c.signedParam("gamma", {ch}, 0.5, 1.5);
    NodeId beta = c.param("beta", {ch}, -1, 1);
    NodeId xh = spatial(c, OpKind::BatchNormalize, {x, rm, rv});
    c.g[xh].param = 1e-5;
    NodeId y = spatial(c, OpKind::ChannelAffine, {xh, gamma, beta});
    // rm <- 0.9 rm + 0.1 mean, rv <- 0.9 rv + 0.1 var (nn.BatchNorm2d's).
    NodeId k9 = constant(c.g, 0.9), k1 = constant(c.g, 0.1);
    for (auto [stat, op] : {std::pair{rm, OpKind::ChannelMean},
                            std::pair{rv, OpKind::ChannelVar}}) {
      NodeId s = c.add(OpKind::Add, {c.add(OpKind::Mul, {k9, stat}),
                                     c.add(OpKind::Mul, {k1, c.add(op, {x})})});
      c.g.updates.push_back({stat, s});
    }
    GradCheckReport r = c.check(c.weightedSum(y), 0);
    std::string what = "batch norm " + dimsStr(dims);
    expectAllPass(r, numel(dims) + 2 * ch, what);
    EXPECT_EQ(checkedOf(r, "rm") + checkedOf(r, "rv"), 0u) << what;

    DiagEngine d;
    Graph grad = differentiate(inferShapes(c.g, d), nullptr);
    ASSERT_EQ(grad.updates.size(), 2u) << what;
    EXPECT_EQ(grad.updates[0].target, rm);
    EXPECT_EQ(grad.updates[1].target, rv);
    EXPECT_FALSE(grad.output("grad.rm") || grad.output("grad.rv")) << what;
    OptimizerSpec sgd;
    Graph step = differentiate(inferShapes(c.g, d), &sgd);
    int running = 0;
    for (const Update &u : step.updates)
      running += u.target == rm || u.target == rv;
    EXPECT_EQ(running, 2) << what;
  }
}

// channel_affine alone, with and without its shift: dx = dy * s,
// ds = channel_sum(dy * x), dt = channel_sum(dy).
TEST(SpatialGrad, ChannelAffine) {
  for (bool shift : {true, false}) {
    GradCase c;
    NodeId x = c.param("x", {2, 3, 2, 2}, -1, 1);
    NodeId s = c.param("s", {3}, -1, 1);
    std::vector<NodeId> in = {x, s};
    if (shift)
      in.push_back(c.param("t", {3}, -1, 1));
    NodeId y = spatial(c, OpKind::ChannelAffine, in);
    expectAllPass(c.check(c.weightedSum(y), 0), 24 + 3 + (shift ? 3 : 0),
                  shift ? "channel_affine x, s, t" : "channel_affine x, s");
  }
}

// flatten and back: the same elements in another shape.
TEST(SpatialGrad, Reshape) {
  {
    GradCase c;
    NodeId x = c.param("x", {2, 3, 2, 2}, -1, 1);
    NodeId f = spatial(c, OpKind::Reshape, {x}, {}, {2, 12});
    NodeId w = c.param("w", {12, 3}, -1, 1);
    expectAllPass(c.check(c.weightedSum(c.add(OpKind::MatMul, {f, w})), 0),
                  24 + 36, "reshape [2,3,2,2] -> [2,12]");
  }
  {
    GradCase c;
    NodeId x = c.param("x", {2, 12}, -1, 1);
    NodeId img = spatial(c, OpKind::Reshape, {x}, {}, {2, 3, 2, 2});
    NodeId w = c.param("w", {2, 3, 2, 2}, -1, 1);
    NodeId y = spatial(c, OpKind::Conv2d, {img, w}, window({2, 2}));
    expectAllPass(c.check(c.weightedSum(y), 0), 24 + 24,
                  "reshape [2,12] -> [2,3,2,2] -> conv2d");
  }
}

// conv -> relu -> maxpool -> flatten -> matmul + bias ->
// softmax_cross_entropy, on a batch of 3 images.
TEST(SpatialGrad, SmallCnnWithSoftmaxCrossEntropy) {
  GradCase c;
  NodeId x = c.input("x", {1, 6, 6}, 3);
  NodeId w = c.param("c1.weight", {2, 1, 3, 3}, -0.8, 0.8);
  NodeId b = c.param("c1.bias", {2}, -0.2, 0.2);
  NodeId conv = spatial(c, OpKind::Conv2d, {x, w, b},
                        window({3, 3}, {1, 1}, {1, 1}));
  NodeId pool = spatial(c, OpKind::MaxPool2d, {c.add(OpKind::Relu, {conv})},
                        window({2, 2}, {2, 2}));
  NodeId flat = spatial(c, OpKind::Reshape, {pool}, {}, {kBatch, 18});
  NodeId fw = c.param("fc.weight", {18, 4}, -0.5, 0.5);
  NodeId fb = c.param("fc.bias", {4}, -0.1, 0.1);
  NodeId z = c.add(OpKind::Add, {c.add(OpKind::MatMul, {flat, fw}), fb});
  NodeId y = c.classes("y", 4, {0, 3, 1}, true);
  NodeId loss = c.add(OpKind::SoftmaxCrossEntropy, {z, y});
  GradCheckReport r = c.check(loss, 0);
  expectAllPass(r, 18 + 2 + 72 + 4, "small cnn");
  // Every param gets a nonzero gradient somewhere: the rules reach them all.
  for (const char *p : {"c1.weight", "c1.bias", "fc.weight", "fc.bias"}) {
    double most = 0;
    for (const GradCheckEntry &e : r.entries)
      if (e.param == p)
        most = std::max(most, std::abs(e.analytic));
    EXPECT_GT(most, 1e-4) << p;
  }
}

// The gradient ops and the channel statistics appear only after autodiff
// or in running statistics: differentiating one is a located user error,
// and check-model says so first.
TEST(SpatialGrad, GradientOpsAndStatisticsAreNotDifferentiated) {
  struct Rejected {
    OpKind op;
    const char *says;
  };
  const Rejected cases[] = {
      {OpKind::ChannelSum, "is a gradient op"},
      {OpKind::ChannelMean, "running statistics"},
      {OpKind::ChannelVar, "running statistics"},
      {OpKind::AvgPool2dGrad, "is a gradient op"},
      {OpKind::MaxPool2dGrad, "is a gradient op"},
      {OpKind::BatchNormalizeGrad, "is a gradient op"},
      {OpKind::Conv2dGradWeight, "is a gradient op"},
      {OpKind::Conv2dGradInput, "is a gradient op"},
  };
  for (const Rejected &k : cases) {
    GradCase c;
    NodeId a = c.param("a", {2, 2, 4, 4}, -1, 1);
    NodeId y = -1;
    Window w = window({2, 2}, {2, 2});
    switch (k.op) {
    case OpKind::AvgPool2dGrad: // a as dy of a 2x2 pooling of [2,2,8,8]
      y = spatial(c, k.op, {a}, w, {2, 2, 8, 8});
      break;
    case OpKind::MaxPool2dGrad:
      y = spatial(c, k.op, {a, c.param("x", {2, 2, 8, 8}, -1, 1)}, w);
      break;
    case OpKind::BatchNormalizeGrad:
      y = spatial(c, k.op, {a, a});
      break;
    case OpKind::Conv2dGradWeight: // a as x; dy of a 2x2 stride-2 conv
      y = spatial(c, k.op, {a, c.param("dy", {2, 3, 2, 2}, -1, 1)}, w);
      break;
    case OpKind::Conv2dGradInput: // a as dy; w [2,1,2,2] to x [2,1,8,8]
      y = spatial(c, k.op, {a, c.param("w", {2, 1, 2, 2}, -1, 1)}, w,
                  {2, 1, 8, 8});
      break;
    default:
      y = spatial(c, k.op, {a});
    }
    c.g[y].loc = SrcLoc{"t.nn", 7, 5};
    NodeId loss = c.weightedSum(y);
    c.g.outputs.push_back({"loss", loss});
    DiagEngine d;
    Graph typed = inferShapes(c.g, d);
    ASSERT_FALSE(d.hasErrors()) << mnemonic(k.op) << "\n" << d.str();
    std::string what = mnemonic(k.op);
    try {
      differentiate(typed, nullptr);
      ADD_FAILURE() << what << ": autodiff differentiated it";
    } catch (const UserError &e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind("t.nn:7:5: error: '" + what + "'", 0), 0u) << msg;
      EXPECT_NE(msg.find(k.says), std::string::npos) << msg;
    }
    DiagEngine check;
    EXPECT_THROW(checkModel(typed, check), DiagnosedError) << what;
    EXPECT_NE(check.str().find("training cannot differentiate '" + what + "'"),
              std::string::npos)
        << check.str();
  }
}

// A conv2d that fusion gave an activation is a fused op here.
TEST(SpatialGrad, Conv2dWithAFusedActivationIsAnError) {
  GradCase c;
  NodeId x = c.param("x", {1, 1, 4, 4}, -1, 1);
  NodeId w = c.param("w", {1, 1, 2, 2}, -1, 1);
  NodeId y = spatial(c, OpKind::Conv2d, {x, w}, window({2, 2}));
  c.g[y].act = Activation::Relu;
  c.g.outputs.push_back({"loss", c.weightedSum(y)});
  DiagEngine d;
  Graph typed = inferShapes(c.g, d);
  try {
    differentiate(typed, nullptr);
    ADD_FAILURE() << "autodiff differentiated conv2d with act = relu";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("fused activation 'relu'"),
              std::string::npos)
        << e.what();
  }
}

// A running statistic is a buffer: never penalized by L2, even if marked
// as a weight.
TEST(SpatialGrad, BuffersGetNoL2Penalty) {
  GradCase c;
  NodeId w = c.param("w", {3}, -1, 1);
  NodeId rm = c.param("rm", {3}, -1, 1);
  c.g[w].isWeight = c.g[rm].isWeight = true;
  c.g[rm].buffer = true;
  NodeId loss = c.add(OpKind::Sum, {c.add(OpKind::Add, {w, rm})});
  c.g.outputs.push_back({"loss", loss});
  DiagEngine d;
  Graph g = addL2(inferShapes(c.g, d), 0.5);
  int squares = 0;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Mul && n.inputs[0] == n.inputs[1]) {
      EXPECT_EQ(n.inputs[0], w);
      ++squares;
    }
  EXPECT_EQ(squares, 1);
}
