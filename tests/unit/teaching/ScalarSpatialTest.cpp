//===- ScalarSpatialTest.cpp - explain --scalar on convolutions -----------===//
///
/// \file
/// The scalar view of the spatial ops on hand-built step graphs: a tiny
/// conv net (1 channel, a 4 x 4 input, a 2 x 2 kernel with relu folded in,
/// max pooling, a dense output) with its backward (max pooling's routing,
/// the weight gradient as x * dy products, the bias gradient, the data
/// gradient), and a batch-norm / average-pooling / strided, padded conv
/// graph. Every written line's numbers are evaluated here and must give
/// the interpreter's value of that element (to the 6 digits they are
/// printed with), and every element of every computing node is written.
///
//===----------------------------------------------------------------------===//

#include "ExampleStep.h"

#include "ir/Support.h"
#include "passes/Builder.h"
#include "runtime/Interpreter.h"
#include "runtime/ScalarStep.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace nn;

namespace {

// --- an evaluator of the numbers a line shows ----------------------------

/// Evaluates "0.5 * 1 + (-2) * 3", "relu(6.75)", "max(1, 2)", "(x - m)^2",
/// "step(0.5)": the arithmetic the scalar view writes with numbers. `mag`
/// accumulates the magnitudes of the terms summed (for the tolerance).
class Eval {
public:
  explicit Eval(const std::string &s) : s(s) {}
  double run() {
    double v = sum();
    skip();
    if (i != s.size())
      throw std::runtime_error("trailing text at " + std::to_string(i));
    return v;
  }
  double mag = 0;

private:
  void skip() {
    while (i < s.size() && s[i] == ' ')
      ++i;
  }
  bool eat(char c) {
    skip();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  double sum() {
    double v = product();
    mag += std::fabs(v);
    for (;;) {
      if (eat('+')) {
        double t = product();
        mag += std::fabs(t);
        v += t;
      } else if (eat('-')) {
        double t = product();
        mag += std::fabs(t);
        v -= t;
      } else
        return v;
    }
  }
  double product() {
    double v = unary();
    for (;;) {
      if (eat('*'))
        v *= unary();
      else if (eat('/'))
        v /= unary();
      else
        return v;
    }
  }
  double unary() {
    if (eat('-'))
      return -unary();
    double v = primary();
    if (eat('^')) {
      double e = primary();
      v = std::pow(v, e);
    }
    return v;
  }
  double primary() {
    skip();
    if (eat('(')) {
      double v = sum();
      if (!eat(')'))
        throw std::runtime_error("missing )");
      return v;
    }
    if (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) {
      size_t b = i;
      while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])))
        ++i;
      std::string f = s.substr(b, i - b);
      if (!eat('('))
        throw std::runtime_error("call without (");
      std::vector<double> args{sum()};
      while (eat(','))
        args.push_back(sum());
      if (!eat(')'))
        throw std::runtime_error("missing ) of a call");
      if (f == "relu")
        return args[0] > 0 ? args[0] : 0;
      if (f == "step")
        return args[0] > 0 ? 1 : 0;
      if (f == "sqrt")
        return std::sqrt(args[0]);
      if (f == "max") {
        double m = args[0];
        for (double a : args)
          m = std::max(m, a);
        return m;
      }
      throw std::runtime_error("unknown function " + f);
    }
    size_t used = 0;
    double v = std::stod(s.substr(i), &used);
    i += used;
    return v;
  }
  const std::string &s;
  size_t i = 0;
};

/// The parts of "elem = sym = nums[ = nums] = value" split at " = ".
std::vector<std::string> parts(const std::string &line) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = line.find(" = ", b)) != std::string::npos; b = e + 3)
    out.push_back(line.substr(b, e - b));
  out.push_back(line.substr(b));
  return out;
}

/// Every line: its numbers evaluate to its value (printed to 6 digits, so
/// within 1e-5 of the terms' size), its value is the interpreter's for
/// its node and element, and every element of every computing node (all
/// but leaves, reshapes, transposes) has its line.
/// With `spatialOnly`, the numbers are evaluated on the lines of the
/// spatial ops (and batch norm's statistics) only: the losses' lines use
/// log and exp.
void checkLines(const Graph &g, const ValueMap &leaves,
                bool spatialOnly = false) {
  std::vector<ScalarLine> lines = scalarStep(g, leaves);
  std::vector<Value> ref = Interpreter(g).run(leaves);
  int64_t checked = 0, evaluated = 0;
  for (const ScalarLine &l : lines) {
    std::vector<std::string> p = parts(l.text);
    ASSERT_GE(p.size(), 2u) << l.text;
    EXPECT_EQ(p.back(), scalarText(l.value)) << l.text;
    if (l.node >= 0) {
      ASSERT_LT(l.index, ref[l.node].numel()) << l.text;
      EXPECT_EQ(l.value, ref[l.node].data[l.index]) << l.text;
      ++checked;
    }
    bool spatial = l.node >= 0 ? family(g[l.node].op) == OpFamily::Spatial
                               : l.text.rfind("mean(", 0) == 0 ||
                                     l.text.rfind("var(", 0) == 0;
    if (spatialOnly && !spatial)
      continue;
    ASSERT_GE(p.size(), 4u) << l.text;
    ++evaluated;
    for (size_t k = 2; k + 1 < p.size(); ++k) {
      Eval e(p[k]);
      double v = 0;
      ASSERT_NO_THROW(v = e.run()) << p[k] << " in " << l.text;
      EXPECT_NEAR(v, l.value, 1e-5 * (1 + e.mag)) << p[k] << " in " << l.text;
    }
  }
  int64_t elements = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    OpKind op = g[id].op;
    if (!hasTrait(op, kLeaf) && op != OpKind::Reshape &&
        op != OpKind::Transpose && op != OpKind::Expand && op != OpKind::Count)
      elements += ref[id].numel();
  }
  EXPECT_EQ(checked, elements);
  EXPECT_GT(evaluated, 0);
}

// --- the graphs -----------------------------------------------------------

NodeId leaf(Graph &g, OpKind op, const std::string &name,
            std::vector<int64_t> dims) {
  Node n = makeNode(op, {});
  n.name = name;
  n.type = TensorType::of(std::move(dims));
  return g.add(std::move(n));
}

Window window(int64_t k, int64_t s, int64_t pad) {
  Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  w.padding[0] = w.padding[1] = pad;
  return w;
}

/// A spatial node with its window, act, shape, name; typed by the rules.
NodeId spatial(Builder &b, OpKind k, std::vector<NodeId> in, Window win,
               const std::string &name, Activation act = Activation::None,
               std::vector<int64_t> shape = {}) {
  Node n = makeNode(k, std::move(in));
  n.win = win;
  n.act = act;
  n.shape = std::move(shape);
  n.name = name;
  return b.typed(std::move(n));
}

/// The tiny conv net's step as fusion leaves it: c1 = relu(conv2d(x, w) +
/// b) (2x2 kernel), p1 = maxpool2d(c1) (2x2, stride 1: windows overlap),
/// out = flatten(p1) @ w2, loss = sum(0.5 * (out - y)^2), and the
/// backward down to the data gradient of x.
struct TinyConv {
  Graph g;
  ValueMap leaves;
  TinyConv() {
    Builder b(g);
    NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 1, 4, 4});
    NodeId y = leaf(g, OpKind::Input, "y", {kBatch, 1});
    NodeId w = leaf(g, OpKind::Param, "c1.weight", {1, 1, 2, 2});
    NodeId bias = leaf(g, OpKind::Param, "c1.bias", {1});
    NodeId w2 = leaf(g, OpKind::Param, "fc.weight", {4, 1});
    NodeId c1 = spatial(b, OpKind::Conv2d, {x, w, bias}, window(2, 1, 0), "c1",
                        Activation::Relu);
    NodeId p1 = spatial(b, OpKind::MaxPool2d, {c1}, window(2, 1, 0), "p1");
    NodeId flat = b.reshape(p1, {kBatch, 4}, "flat");
    NodeId out = b.binary(OpKind::MatMul, flat, w2, "out");
    NodeId e = b.binary(OpKind::Sub, out, y, "e");
    NodeId half = b.constant(0.5);
    NodeId sq = b.binary(OpKind::Mul, half, b.binary(OpKind::Mul, e, e));
    NodeId loss = b.op(OpKind::Sum, {sq}, "loss");
    NodeId seed = b.constant(1.0, "d.loss");
    NodeId de = b.binary(OpKind::Mul, e, seed, "d.e");
    NodeId dflat =
        b.binary(OpKind::MatMul, de, b.unary(OpKind::Transpose, w2), "d.flat");
    b.binary(OpKind::MatMul, b.unary(OpKind::Transpose, flat), de,
             "d.fc.weight");
    NodeId dp1 = b.reshape(dflat, {kBatch, 1, 2, 2}, "d.p1");
    NodeId dc1 =
        spatial(b, OpKind::MaxPool2dGrad, {dp1, c1}, window(2, 1, 0), "d.c1");
    spatial(b, OpKind::Conv2dGradWeight, {x, dc1, c1}, window(2, 1, 0),
            "d.c1.weight", Activation::Relu);
    spatial(b, OpKind::ChannelSum, {dc1, c1}, {}, "d.c1.bias",
            Activation::Relu);
    spatial(b, OpKind::Conv2dGradInput, {dc1, w, c1}, window(2, 1, 0), "d.x",
            Activation::Relu, {kBatch, 1, 4, 4});
    g.outputs.push_back({"loss", loss});
    // Sample A: 1..16, rising, so each window's max is its last element;
    // sample B: a peak at row 3, column 3 (1-based) that all four pooling
    // windows route to, and a negative corner that relu stops.
    std::vector<double> xs;
    for (int k = 1; k <= 16; ++k)
      xs.push_back(k);
    std::vector<double> xb(16, 0.0);
    xb[10] = 8;
    xb[0] = -4;
    xs.insert(xs.end(), xb.begin(), xb.end());
    leaves["x"] = {{2, 1, 4, 4}, xs};
    leaves["y"] = {{2, 1}, {1, 2}};
    leaves["c1.weight"] = {{1, 1, 2, 2}, {0.5, 0, 0, 1}};
    leaves["c1.bias"] = {{1}, {0.25}};
    leaves["fc.weight"] = {{4, 1}, {1, -1, 0.5, 2}};
  }
};

const ScalarLine *find(const std::vector<ScalarLine> &lines,
                       const std::string &prefix) {
  for (const ScalarLine &l : lines)
    if (l.text.rfind(prefix, 0) == 0)
      return &l;
  return nullptr;
}

TEST(ScalarSpatial, TinyConvNumbersAreTheInterpreters) {
  TinyConv t;
  checkLines(t.g, t.leaves);
}

// Each output is its window's four multiply-adds, plus the bias, in relu.
TEST(ScalarSpatial, ConvOutputIsItsWindowsMultiplyAdds) {
  TinyConv t;
  std::vector<ScalarLine> lines = scalarStep(t.g, t.leaves);
  const ScalarLine *l = find(lines, "c1[A,1,1,1] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text,
            "c1[A,1,1,1] = relu(c1.weight[1,1,1,1] * x[A,1,1,1] + "
            "c1.weight[1,1,1,2] * x[A,1,1,2] + c1.weight[1,1,2,1] * "
            "x[A,1,2,1] + c1.weight[1,1,2,2] * x[A,1,2,2] + c1.bias[1]) = "
            "relu(0.5 * 1 + 0 * 2 + 0 * 5 + 1 * 6 + 0.25) = relu(6.75) = "
            "6.75");
  // The negative corner of sample B: 0.5 * (-4) + 0.25, stopped by relu.
  l = find(lines, "c1[B,1,1,1] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->value, 0);
  EXPECT_NE(l->text.find("relu(0.5 * (-4) + 0 * 0 + 0 * 0 + 1 * 0 + 0.25) "
                         "= relu(-1.75) = 0"),
            std::string::npos)
      << l->text;
  // Max pooling: the window's four elements.
  l = find(lines, "p1[A,1,1,1] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text, "p1[A,1,1,1] = max(c1[A,1,1,1], c1[A,1,1,2], "
                     "c1[A,1,2,1], c1[A,1,2,2]) = max(6.75, 8.25, 12.75, "
                     "14.25) = 14.25");
}

// The gradient goes to each window's max and nowhere else; where windows
// overlap on one max, their gradients add up.
TEST(ScalarSpatial, MaxPoolingRoutesTheGradientToTheMax) {
  TinyConv t;
  std::vector<ScalarLine> lines = scalarStep(t.g, t.leaves);
  const ScalarLine *l = find(lines, "d.c1[A,1,2,2] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text.substr(0, l->text.find(" = ", 17)),
            "d.c1[A,1,2,2] = d.p1[A,1,1,1] (the max of its window)");
  l = find(lines, "d.c1[A,1,1,1] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text, "d.c1[A,1,1,1] = 0 (not the max of any window) = 0 = 0");
  l = find(lines, "d.c1[B,1,2,2] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text.substr(0, l->text.find(" = ", 17)),
            "d.c1[B,1,2,2] = d.p1[B,1,1,1] + d.p1[B,1,1,2] + d.p1[B,1,2,1] + "
            "d.p1[B,1,2,2] (the max of each of these windows)");
}

// dW[1,1,1,1] is the sum over both samples and the 3 x 3 outputs of the
// input the tap read times the output's gradient (masked by relu').
TEST(ScalarSpatial, WeightGradientIsInputTimesOutputGradient) {
  TinyConv t;
  std::vector<ScalarLine> lines = scalarStep(t.g, t.leaves);
  const ScalarLine *l = find(lines, "d.c1.weight[1,1,2,2] = ");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->text.rfind("d.c1.weight[1,1,2,2] = x[A,1,2,2] * (d.c1[A,1,1,1] "
                          "* step(c1[A,1,1,1])) + x[A,1,2,3] * "
                          "(d.c1[A,1,1,2] * step(c1[A,1,1,2])) + ",
                          0),
            0u)
      << l->text;
  // 18 products: 2 samples x 3 x 3 output positions.
  std::string sym = parts(l->text)[1];
  size_t products = 0;
  for (size_t k = 0; (k = sym.find("x[", k)) != std::string::npos; ++k)
    ++products;
  EXPECT_EQ(products, 18u);
  // The bias gradient: the masked output gradients summed.
  l = find(lines, "d.c1.bias[1] = d.c1[A,1,1,1] * step(c1[A,1,1,1]) + ");
  ASSERT_TRUE(l) << "no bias gradient line";
}

/// A strided, padded conv without bias, batch norm's training form and its
/// gradient, the running statistics' reductions, average pooling with
/// padding and its gradient.
struct NormPool {
  Graph g;
  ValueMap leaves;
  NormPool() {
    Builder b(g);
    NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 1, 4, 4});
    NodeId w = leaf(g, OpKind::Param, "c.weight", {2, 1, 3, 3});
    NodeId rm = leaf(g, OpKind::Param, "bn.running_mean", {2});
    NodeId rv = leaf(g, OpKind::Param, "bn.running_var", {2});
    NodeId gamma = leaf(g, OpKind::Param, "bn.weight", {2});
    NodeId beta = leaf(g, OpKind::Param, "bn.bias", {2});
    NodeId up = leaf(g, OpKind::Input, "up", {kBatch, 2, 2, 2});
    NodeId c = spatial(b, OpKind::Conv2d, {x, w}, window(3, 2, 1), "c");
    Node bn = makeNode(OpKind::BatchNormalize, {c, rm, rv});
    bn.param = 1e-5;
    bn.name = "bn.xh";
    NodeId xh = b.typed(bn);
    NodeId y = b.op(OpKind::ChannelAffine, {xh, gamma, beta}, "bn");
    b.op(OpKind::ChannelMean, {c}, "mean.c");
    b.op(OpKind::ChannelVar, {c}, "var.c");
    NodeId p = spatial(b, OpKind::AvgPool2d, {y}, window(2, 2, 1), "p");
    NodeId seed = b.constant(1.0, "d.loss");
    NodeId dp = b.binary(OpKind::Mul, up, seed, "d.p");
    NodeId dy = spatial(b, OpKind::AvgPool2dGrad, {dp}, window(2, 2, 1), "d.bn",
                        Activation::None, {kBatch, 2, 2, 2});
    NodeId dxh = b.op(OpKind::ChannelAffine, {dy, gamma}, "d.bn.xh");
    b.op(OpKind::ChannelSum, {b.binary(OpKind::Mul, dy, xh)}, "d.bn.weight");
    b.op(OpKind::ChannelSum, {dy}, "d.bn.bias");
    Node bng = makeNode(OpKind::BatchNormalizeGrad, {dxh, c});
    bng.param = 1e-5;
    bng.name = "d.c";
    NodeId dc = b.typed(bng);
    spatial(b, OpKind::Conv2dGradWeight, {x, dc}, window(3, 2, 1),
            "d.c.weight");
    spatial(b, OpKind::Conv2dGradInput, {dc, w}, window(3, 2, 1), "d.x",
            Activation::None, {kBatch, 1, 4, 4});
    g.outputs.push_back({"p", p});
    std::vector<double> xs, ws, ups;
    for (int k = 0; k < 32; ++k)
      xs.push_back(std::sin(0.7 * k) * 2);
    for (int k = 0; k < 18; ++k)
      ws.push_back(std::cos(1.3 * k) / 2);
    for (int k = 0; k < 16; ++k)
      ups.push_back(std::sin(2.1 * k + 0.3));
    leaves["x"] = {{2, 1, 4, 4}, xs};
    leaves["c.weight"] = {{2, 1, 3, 3}, ws};
    leaves["bn.running_mean"] = {{2}, {0, 0}};
    leaves["bn.running_var"] = {{2}, {1, 1}};
    leaves["bn.weight"] = {{2}, {1.5, 0.5}};
    leaves["bn.bias"] = {{2}, {0.1, -0.2}};
    leaves["up"] = {{2, 2, 2, 2}, ups};
  }
};

TEST(ScalarSpatial, BatchNormAndAveragePoolingNumbersAreTheInterpreters) {
  NormPool t;
  checkLines(t.g, t.leaves);
}

// Batch norm writes each channel's mean and variance, then each element.
TEST(ScalarSpatial, BatchNormWritesTheChannelStatistics) {
  NormPool t;
  std::vector<ScalarLine> lines = scalarStep(t.g, t.leaves);
  const ScalarLine *mean = find(lines, "mean(c[:,1,:,:]) = (c[A,1,1,1] + ");
  ASSERT_TRUE(mean);
  EXPECT_NE(mean->text.find(" + c[B,1,2,2]) / 8 = ("), std::string::npos)
      << mean->text;
  const ScalarLine *var =
      find(lines, "var(c[:,2,:,:]) = ((c[A,2,1,1] - mean(c[:,2,:,:]))^2 + ");
  ASSERT_TRUE(var);
  const ScalarLine *xh = find(lines, "bn.xh[B,2,1,2] = (c[B,2,1,2] - "
                                     "mean(c[:,2,:,:])) / sqrt(var(c[:,2,:,:]) "
                                     "+ 1e-05) = (");
  ASSERT_TRUE(xh);
  // The running variance is the unbiased one: 8 values, divided by 7.
  const ScalarLine *rv = find(lines, "var.c[1] = ((c[A,1,1,1] - ");
  ASSERT_TRUE(rv);
  EXPECT_NE(rv->text.find(") / 7 = "), std::string::npos) << rv->text;
  // Average pooling with padding 1: a corner window holds one element,
  // divided by all four.
  const ScalarLine *p = find(lines, "p[A,1,1,1] = bn[A,1,1,1] / 4 = ");
  ASSERT_TRUE(p);
  p = find(lines, "p[B,2,2,2] = bn[B,2,2,2] / 4 = ");
  ASSERT_TRUE(p);
}

// examples/conv_tiny.nn as `nnc explain --scalar` runs it: the fused step
// of its first batch (4 images) from its initial parameters.
TEST(ScalarSpatial, ConvTinyExampleNumbersAreTheInterpreters) {
  test::Example ex =
      test::loadExample("conv_tiny.nn", "conv_tiny.csv", "bar", 4);
  checkLines(ex.fused, ex.leaves, /*spatialOnly=*/true);
  std::vector<ScalarLine> lines = scalarStep(ex.fused, ex.leaves);
  // The kernel's gradient sums 4 samples x 3 x 3 outputs of x * dy.
  const ScalarLine *dw = find(lines, "d.c.weight[1,1,1,1] = x[A,1,1,1] * ");
  ASSERT_TRUE(dw);
  std::string sym = parts(dw->text)[1];
  size_t products = 0;
  for (size_t k = 0; (k = sym.find("x[", k)) != std::string::npos; ++k)
    ++products;
  EXPECT_EQ(products, 36u);
}

// Batch norm as the frontend lowers it (batch_normalize, channel_affine,
// the running statistics' reductions and updates) on two conv channels,
// then average pooling with padding: every line against the interpreter.
TEST(ScalarSpatial, BatchNormModelNumbersAreTheInterpreters) {
  std::ifstream f(std::string(NNC_SOURCE_DIR) + "/examples/data/conv_tiny.csv");
  std::stringstream csv;
  csv << f.rdbuf();
  test::Example ex = test::loadText(
      "bn_tiny",
      "model bn_tiny\ninput x : f32[1, 4, 4]\nlabel y : binary\n"
      "c = conv2d(x, 2, kernel = 2)\nb = batch_norm(c)\n"
      "p = avgpool2d(b, 2, padding = 1)\nz = dense(flatten(p), 1)\n"
      "loss bce(sigmoid(z), y)\n"
      "train { data csv(\"bn_tiny.csv\", label = \"bar\") "
      "optimizer sgd(lr = 0.1) batch 2 seed 3 }\n",
      csv.str(), "bar", 2);
  checkLines(ex.fused, ex.leaves, /*spatialOnly=*/true);
  std::vector<ScalarLine> lines = scalarStep(ex.fused, ex.leaves);
  // Each channel's statistics over 2 samples x 3 x 3 outputs.
  EXPECT_TRUE(find(lines, "mean(c[:,2,:,:]) = (c[A,2,1,1] + "));
  EXPECT_TRUE(find(lines, "var(c[:,1,:,:]) = ((c[A,1,1,1] - "));
  const ScalarLine *rv = find(lines, "b.batch_var[1] = ((c[A,1,1,1] - ");
  ASSERT_TRUE(rv);
  EXPECT_NE(rv->text.find(") / 17 = "), std::string::npos) << rv->text;
  // Average pooling with padding 1 on 3 x 3: the padding is left out of the
  // sums and counted in the divisor.
  EXPECT_TRUE(find(lines, "p[A,1,1,1] = b[A,1,1,1] / 4 = "));
  EXPECT_TRUE(find(lines, "p[A,1,1,2] = (b[A,1,1,2] + b[A,1,1,3]) / 4 = ("));
  EXPECT_TRUE(find(lines, "p[A,1,2,2] = (b[A,1,2,2] + b[A,1,2,3] + "
                          "b[A,1,3,2] + b[A,1,3,3]) / 4 = ("));
}

TEST(ScalarSpatial, RefusesLongSums) {
  // A 9 x 9 kernel over 1 channel is 81 products per output: too long.
  Graph g;
  Builder b(g);
  NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 1, 9, 9});
  NodeId w = leaf(g, OpKind::Param, "w", {1, 1, 9, 9});
  spatial(b, OpKind::Conv2d, {x, w}, window(9, 1, 0), "c");
  ValueMap leaves;
  leaves["x"] = {{1, 1, 9, 9}, std::vector<double>(81, 1.0)};
  leaves["w"] = {{1, 1, 9, 9}, std::vector<double>(81, 1.0)};
  try {
    scalarStep(g, leaves);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "nnc: error: explain --scalar writes sums of at most 64 terms; "
              "c sums 81 (use a smaller image or --batch)");
  }
}

} // namespace
