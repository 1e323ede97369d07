//===- NormalizeTest.cpp - layer_norm's rows on the interpreter -----------===//
///
/// \file
/// normalize and normalize_grad, the interpreter's kernels (the oracle of
/// the CPU and CUDA ones): values worked out by hand, rows of a 3-D tensor
/// independent, and gradient checks by central differences of normalize
/// alone (two eps, a 3-D operand) and of whole models with layer_norm
/// layers (tests/unit/LayerNormModel.h).
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"
#include "tests/unit/LayerNormModel.h"

#include "frontend/Frontend.h"
#include "passes/InferShapes.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace nn;
using namespace nn::test;

namespace {

/// normalize(a) (eps `eps`) of a Param `a` with these values.
Value normalizeOf(std::vector<int64_t> dims, std::vector<double> data,
                  double eps) {
  Graph g;
  NodeId a = leaf(g, OpKind::Param, "a", f32(dims));
  NodeId y = op(g, OpKind::Normalize, {a}, f32(dims));
  g[y].param = eps;
  g.outputs.push_back({"y", y});
  return Interpreter(g).run({{"a", val(dims, std::move(data))}})[y];
}

/// A gradient check of loss = sum(normalize(a) * W) for fixed random W.
GradCheckReport checkNormalize(std::vector<int64_t> dims, double eps,
                               uint64_t seed) {
  Graph g;
  int64_t n = TensorType::of(dims).numel();
  NodeId a = leaf(g, OpKind::Param, "a", f32(dims));
  NodeId y = op(g, OpKind::Normalize, {a});
  g[y].param = eps;
  Node w = makeNode(OpKind::Const, {});
  w.type = f32(dims);
  w.values = randomValues(n, -1, 1, seed + 1);
  NodeId wid = g.add(std::move(w));
  NodeId loss = op(g, OpKind::Sum, {op(g, OpKind::Mul, {y, wid})});
  g.outputs.push_back({"loss", loss});
  DiagEngine d;
  Graph typed = inferShapes(g, d);
  ValueMap leaves = {{"a", val(dims, randomValues(n, -2, 2, seed))}};
  return gradCheck(typed, leaves, 200);
}

} // namespace

TEST(Normalize, ValuesWorkedOutByHand) {
  // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
  Value y = normalizeOf({1, 4}, {1, 2, 3, 4}, 0.0);
  double s = std::sqrt(1.25);
  for (int j = 0; j < 4; ++j)
    EXPECT_DOUBLE_EQ(y.data[j], (j + 1 - 2.5) / s) << j;
  // eps joins the variance under the root: a constant row gives zeros.
  Value c = normalizeOf({1, 3}, {7, 7, 7}, 1e-5);
  for (double v : c.data)
    EXPECT_EQ(v, 0.0);
  Value e = normalizeOf({1, 2}, {0, 2}, 3.0); // var 1, sqrt(1 + 3) = 2
  EXPECT_DOUBLE_EQ(e.data[0], -0.5);
  EXPECT_DOUBLE_EQ(e.data[1], 0.5);
}

TEST(Normalize, EachRowOnItsOwn) {
  // [2, 2, 3]: four rows of three; each row's result depends on it alone.
  std::vector<double> data = randomValues(12, -3, 3, 5);
  Value all = normalizeOf({2, 2, 3}, data, 1e-5);
  ASSERT_EQ(all.shape, (std::vector<int64_t>{2, 2, 3}));
  for (int r = 0; r < 4; ++r) {
    std::vector<double> row(data.begin() + 3 * r, data.begin() + 3 * r + 3);
    Value one = normalizeOf({3}, row, 1e-5);
    double mean = 0, sq = 0;
    for (int j = 0; j < 3; ++j) {
      EXPECT_DOUBLE_EQ(all.data[3 * r + j], one.data[j]) << r << "," << j;
      mean += one.data[j] / 3;
      sq += one.data[j] * one.data[j] / 3;
    }
    EXPECT_NEAR(mean, 0, 1e-12);
    EXPECT_NEAR(sq, 1, 1e-4); // 1 - eps / var
  }
}

TEST(GradCheck, NormalizeAlone) {
  struct Shape {
    std::vector<int64_t> dims;
    double eps;
  };
  for (const Shape &s :
       {Shape{{3, 7}, 1e-5}, Shape{{3, 7}, 0.5}, Shape{{2, 3, 5}, 1e-5},
        Shape{{4}, 1e-5}, Shape{{5, 1}, 1e-5}}) {
    GradCheckReport r = checkNormalize(s.dims, s.eps, 3);
    std::string what = dimsStr(s.dims) + " eps " + std::to_string(s.eps);
    EXPECT_EQ(r.entries.size(),
              static_cast<size_t>(TensorType::of(s.dims).numel()))
        << what;
    EXPECT_EQ(r.failures, 0) << what << "\n" << formatGradCheck(r);
  }
}

TEST(GradCheck, ModelWithLayerNormLayers) {
  std::string text = layerNormModel();
  DiagEngine diags;
  diags.addSource("ln.nn", text);
  std::optional<Model> m = parseModel("ln.nn", text, diags);
  ASSERT_TRUE(m) << diags.str();
  Graph g = inferShapes(m->graph, diags);
  // Random inputs and params; the layer_norm params away from their
  // initial ones and zeros, so their gradients are general.
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(-1, 1);
  ValueMap leaves;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Input && n.op != OpKind::Param && n.op != OpKind::Label)
      continue;
    Value v;
    for (int64_t d : n.type.dims)
      v.shape.push_back(d == kBatch ? 6 : d);
    int64_t k = 1;
    for (int64_t d : v.shape)
      k *= d;
    for (int64_t i = 0; i < k; ++i)
      v.data.push_back(n.op == OpKind::Label ? (i * 3 + 1) % 4 : u(rng));
    leaves[n.name] = v;
  }
  GradCheckReport r = gradCheck(g, leaves, 30);
  EXPECT_EQ(r.failures, 0) << formatGradCheck(r);
  for (const char *p : {"n1.weight", "n1.bias", "n2.weight", "n2.bias"}) {
    size_t n = 0;
    for (const GradCheckEntry &e : r.entries)
      n += e.param == p && e.analytic != 0;
    EXPECT_GT(n, 0u) << p << " has no (non-zero) gradient";
  }
}
