//===- GradCheckTest.cpp - Every gradient rule against differences --------===//
///
/// \file
/// Gradient checks of passes/Autodiff.h on the interpreter: each op with a
/// gradient rule in a small graph whose operands are Params (random values
/// from fixed seeds; loss = sum(op(...) * fixed random weights) or the loss
/// op itself), whole models, and the checker itself.
///
//===----------------------------------------------------------------------===//

#include "GradCase.h"

#include "ir/Attributes.h"
#include "ir/ElementwiseMath.h"
#include "ir/Support.h"
#include "passes/InferShapes.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

// Every unary op of the table, a new one included: on values away from 0
// (the kinks of relu and step), of both signs where the op is defined there
// (its value finite), else positive (log).
TEST(GradCheck, UnaryOps) {
  int checked = 0;
  for (OpKind op : allOps()) {
    if (family(op) != OpFamily::Elementwise || opInfo(op).arity != 1)
      continue;
    GradCase c;
    NodeId a = c.signedParam("a", {3, 4}, 0.1, 1.5);
    DoubleEmitter e;
    bool finite = true;
    for (double x : c.leaves["a"].data) {
      double arg[2] = {x, x}; // one operand (two stored: no bounds warning)
      finite = finite && std::isfinite(emitElementwise(
                             e, op, std::span<const double>(arg, 1)));
    }
    if (!finite)
      for (double &x : c.leaves["a"].data)
        x = std::abs(x);
    NodeId y = c.add(op, {a});
    if (hasSlope(op))
      c.g[y].param = 0.2; // leaky_relu's slope: not the default 0
    GradCheckReport r = c.check(c.weightedSum(y));
    expectPasses(r, mnemonic(op));
    EXPECT_EQ(checkedOf(r, "a"), 12u);
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

TEST(GradCheck, BinaryOpsWithBroadcasting) {
  using Dims = std::vector<int64_t>;
  struct Shapes {
    Dims a, b;
  };
  for (OpKind k : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    for (Shapes s : {Shapes{{3, 4}, {3, 4}}, Shapes{{3, 4}, {4}},
                     Shapes{{4}, {3, 4}}, Shapes{{3, 4}, {}},
                     Shapes{{}, {3, 4}}, Shapes{{3, 1}, {3, 4}},
                     Shapes{{3, 4}, {3, 1}}}) {
      GradCase c;
      NodeId a = c.param("a", s.a, -2, 2);
      // Denominators stay away from 0.
      NodeId b = k == OpKind::Div ? c.signedParam("b", s.b, 0.5, 2)
                                  : c.param("b", s.b, -2, 2);
      std::string what = std::string(mnemonic(k)) + " " + dimsStr(s.a) +
                         " " + dimsStr(s.b);
      GradCheckReport r = c.check(c.weightedSum(c.add(k, {a, b})));
      expectPasses(r, what);
      EXPECT_EQ(checkedOf(r, "a"), c.leaves["a"].data.size()) << what;
      EXPECT_EQ(checkedOf(r, "b"), c.leaves["b"].data.size()) << what;
    }
  }
}

TEST(GradCheck, SameParamOnBothSides) {
  // x * x and x / x: contributions of two uses are summed.
  for (OpKind k : {OpKind::Mul, OpKind::Div, OpKind::Sub}) {
    GradCase c;
    NodeId x = c.signedParam("x", {5}, 0.5, 2);
    expectPasses(c.check(c.weightedSum(c.add(k, {x, x}))), mnemonic(k));
  }
}

TEST(GradCheck, MatMulBothForms) {
  {
    GradCase c;
    NodeId a = c.param("a", {3, 4}, -1, 1);
    NodeId b = c.param("b", {4, 5}, -1, 1);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::MatMul, {a, b}))),
                 "matmul [3,4]@[4,5]");
  }
  {
    GradCase c;
    NodeId a = c.param("a", {3, 4}, -1, 1);
    NodeId b = c.param("b", {4}, -1, 1);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::MatMul, {a, b}))),
                 "matmul [3,4]@[4]");
  }
}

TEST(GradCheck, TransposeAndExpand) {
  {
    GradCase c;
    NodeId a = c.param("a", {3, 4}, -1, 1);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Transpose, {a}))),
                 "transpose");
  }
  {
    GradCase c;
    NodeId a = c.param("a", {4}, -1, 1);
    NodeId like = c.param("like", {3, 4}, -1, 1);
    // `like` only gives a shape: its gradient is 0, numerically too.
    GradCheckReport r =
        c.check(c.weightedSum(c.add(OpKind::Expand, {a, like})));
    expectPasses(r, "expand [4] to [3,4]");
    for (const GradCheckEntry &e : r.entries)
      EXPECT_TRUE(e.param != "like" || e.analytic == 0.0) << e.index;
  }
  {
    GradCase c;
    NodeId a = c.param("a", {}, -1, 1);
    NodeId like = c.param("like", {2, 3}, -1, 1);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Expand, {a, like}))),
                 "expand scalar to [2,3]");
  }
}

TEST(GradCheck, Reductions) {
  for (OpKind k : {OpKind::Sum, OpKind::Mean}) {
    for (int64_t axis : {-1, 0, 1}) {
      GradCase c;
      NodeId a = c.param("a", {3, 4}, -1, 1);
      expectPasses(c.check(c.weightedSum(c.add(k, {a}, axis))),
                   std::string(mnemonic(k)) + " axis " +
                       std::to_string(axis));
    }
  }
  // Square shapes, where broadcasting by trailing dims alone is ambiguous.
  for (OpKind k : {OpKind::Sum, OpKind::Mean}) {
    for (int64_t axis : {0, 1}) {
      GradCase c;
      NodeId a = c.param("a", {3, 3}, -1, 1);
      expectPasses(c.check(c.weightedSum(c.add(k, {a}, axis))),
                   std::string(mnemonic(k)) + " [3,3] axis " +
                       std::to_string(axis));
    }
  }
  {
    GradCase c;
    NodeId a = c.param("a", {3, 3}, -2, 2);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Softmax, {a}))),
                 "softmax [3,3]");
  }
  for (OpKind k : {OpKind::Add, OpKind::Mul}) {
    GradCase c;
    NodeId a = c.param("a", {3, 1}, -1, 1);
    NodeId b = c.param("b", {3, 3}, -1, 1);
    NodeId v = c.param("v", {3}, -1, 1);
    NodeId t = c.add(k, {c.add(k, {a, b}), v});
    expectPasses(c.check(c.weightedSum(t)),
                 std::string(mnemonic(k)) + " [3,1] [3,3] [3]");
  }
  {
    // count does not depend on the values: a zero gradient, numerically too.
    GradCase c;
    NodeId a = c.param("a", {3, 4}, -1, 1);
    NodeId b = c.param("b", {4}, -1, 1);
    NodeId n = c.add(OpKind::Count, {a}, 0);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Mul, {n, b}))),
                 "count axis 0");
  }
}

TEST(GradCheck, Softmax) {
  {
    GradCase c;
    NodeId z = c.param("z", {3, 4}, -2, 2);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Softmax, {z}))),
                 "softmax [3,4]");
  }
  {
    GradCase c;
    NodeId z = c.param("z", {5}, -2, 2);
    expectPasses(c.check(c.weightedSum(c.add(OpKind::Softmax, {z}))),
                 "softmax [5]");
  }
}

TEST(GradCheck, PairLosses) {
  using Dims = std::vector<int64_t>;
  for (OpKind k : {OpKind::Bce, OpKind::BceLogits, OpKind::Mse}) {
    for (Dims pd : {Dims{6}, Dims{6, 1}, Dims{2, 3}}) {
      Dims yd = pd.size() == 2 && pd[1] == 1 ? Dims{6} : pd;
      GradCase c;
      NodeId p = k == OpKind::Bce ? c.param("p", pd, 0.1, 0.9)
                                  : c.param("p", pd, -2, 2);
      // Soft targets, themselves params: both gradients are checked.
      NodeId y = c.param("y", yd, 0.05, 0.95);
      std::string what = std::string(mnemonic(k)) + " " + dimsStr(pd);
      GradCheckReport r = c.check(c.add(k, {p, y}));
      expectPasses(r, what);
      EXPECT_EQ(checkedOf(r, "y"), 6u) << what;
    }
  }
}

TEST(GradCheck, ClassLosses) {
  {
    GradCase c;
    NodeId p = c.param("p", {3, 4}, 0.1, 1.0);
    NodeId y = c.classes("y", 4, {2, 0, 3}, /*batched=*/false);
    expectPasses(c.check(c.add(OpKind::CrossEntropy, {p, y})),
                 "cross_entropy");
  }
  {
    GradCase c;
    NodeId z = c.param("z", {3, 4}, -2, 2);
    NodeId y = c.classes("y", 4, {1, 1, 3}, false);
    expectPasses(c.check(c.add(OpKind::SoftmaxCrossEntropy, {z, y})),
                 "softmax_cross_entropy");
  }
  {
    // Unrewritten: cross_entropy(softmax(z), y).
    GradCase c;
    NodeId z = c.param("z", {3, 4}, -2, 2);
    NodeId y = c.classes("y", 4, {0, 2, 3}, false);
    NodeId sm = c.add(OpKind::Softmax, {z});
    expectPasses(c.check(c.add(OpKind::CrossEntropy, {sm, y})),
                 "cross_entropy(softmax)");
  }
}

TEST(GradCheck, MlpWithSoftmaxCrossEntropy) {
  GradCase c;
  NodeId x = c.input("x", {5}, 6);
  NodeId y = c.classes("y", 3, {0, 2, 1, 1, 0, 2}, /*batched=*/true);
  NodeId w1 = c.param("fc1.weight", {5, 8}, -0.6, 0.6);
  NodeId b1 = c.param("fc1.bias", {8}, -0.1, 0.1);
  NodeId w2 = c.param("fc2.weight", {8, 3}, -0.6, 0.6);
  NodeId b2 = c.param("fc2.bias", {3}, -0.1, 0.1);
  NodeId h = c.add(OpKind::Relu,
                   {c.add(OpKind::Add, {c.add(OpKind::MatMul, {x, w1}), b1})});
  NodeId z = c.add(OpKind::Add, {c.add(OpKind::MatMul, {h, w2}), b2});
  GradCheckReport r = c.check(c.add(OpKind::SoftmaxCrossEntropy, {z, y}));
  expectPasses(r, "mlp");
  EXPECT_EQ(r.entries.size(), 40u + 8 + 24 + 3);
}

TEST(GradCheck, ChurnNeuronBceLogitsAndBce) {
  for (OpKind k : {OpKind::BceLogits, OpKind::Bce}) {
    GradCase c;
    NodeId x = c.input("x", {3}, 5);
    NodeId y = leaf(c.g, OpKind::Label, "y", f32({kBatch}));
    c.leaves["y"] = val({5}, {1, 0, 1, 0, 0});
    NodeId w = c.param("w", {3}, -1, 1);
    NodeId b = c.param("b", {}, -1, 1);
    NodeId z = c.add(OpKind::Add, {c.add(OpKind::MatMul, {x, w}), b});
    NodeId p = k == OpKind::Bce ? c.add(OpKind::Sigmoid, {z}) : z;
    expectPasses(c.check(c.add(k, {p, y})), mnemonic(k));
  }
}

TEST(GradCheck, MseRegressionWithL2) {
  // tanh hidden layer, [N,2] real targets, loss = mse + 0.01 * sum(w*w).
  GradCase c;
  NodeId x = c.input("x", {3}, 4);
  NodeId y = leaf(c.g, OpKind::Label, "y", f32({kBatch, 2}));
  c.leaves["y"] = val({4, 2}, randomValues(8, -1, 1, 99));
  NodeId w1 = c.param("w1", {3, 4}, -1, 1);
  NodeId b1 = c.param("b1", {4}, -0.5, 0.5);
  NodeId w2 = c.param("w2", {4, 2}, -1, 1);
  NodeId h = c.add(OpKind::Tanh,
                   {c.add(OpKind::Add, {c.add(OpKind::MatMul, {x, w1}), b1})});
  NodeId p = c.add(OpKind::MatMul, {h, w2});
  NodeId mse = c.add(OpKind::Mse, {p, y});
  NodeId l2 = c.add(OpKind::Add,
                    {c.add(OpKind::Sum, {c.add(OpKind::Mul, {w1, w1})}),
                     c.add(OpKind::Sum, {c.add(OpKind::Mul, {w2, w2})})});
  NodeId lambda = constant(c.g, 0.01);
  expectPasses(
      c.check(c.add(OpKind::Add, {mse, c.add(OpKind::Mul, {lambda, l2})})),
      "mse + l2");
}

TEST(GradCheck, ReportsAKinkNotAFailure) {
  // relu at its kink: the central difference sees slope 1/2, relu' = step
  // says 0, the one-sided differences 0 (left) and 1 (right). Autodiff took
  // the left side, as PyTorch does: a kink, not a failure (issue 12).
  GradCase c;
  NodeId a = c.param("a", {3}, -1, 1);
  c.leaves["a"].data = {0.0, 1.0, -1.0};
  NodeId s = c.add(OpKind::Sum, {c.add(OpKind::Relu, {a})});
  GradCheckReport r = c.check(s);
  ASSERT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.failures, 0);
  EXPECT_EQ(r.kinks, 1);
  EXPECT_TRUE(r.entries[0].ok);
  EXPECT_TRUE(r.entries[0].kink);
  EXPECT_NEAR(r.entries[0].numeric, 0.5, 1e-9);
  EXPECT_EQ(r.entries[0].analytic, 0.0);
  EXPECT_NEAR(r.entries[0].left, 0.0, 1e-9);
  EXPECT_NEAR(r.entries[0].right, 1.0, 1e-9);
  EXPECT_TRUE(r.entries[1].ok);
  EXPECT_FALSE(r.entries[1].kink);
  EXPECT_NEAR(r.entries[1].analytic, 1.0, 1e-12);
  EXPECT_TRUE(r.entries[2].ok);
  EXPECT_LT(r.maxAbsErr, 1e-6); // the kink's central difference is no error
  EXPECT_NE(formatGradCheck(r).find("checked 3 elements of 1 params: 0 "
                                    "failures (1 at kinks)"),
            std::string::npos)
      << formatGradCheck(r);
}

TEST(GradCheck, SpreadsChecksOverLargeParams) {
  GradCase c;
  NodeId a = c.param("a", {10, 100}, -1, 1);
  GradCheckReport r = c.check(c.weightedSum(c.add(OpKind::Tanh, {a})), 10);
  expectPasses(r, "spread");
  ASSERT_EQ(r.entries.size(), 10u);
  EXPECT_EQ(r.entries.front().index, 0);
  EXPECT_EQ(r.entries.back().index, 999);
  for (size_t i = 1; i < r.entries.size(); ++i)
    EXPECT_GT(r.entries[i].index, r.entries[i - 1].index + 50);
}

TEST(GradCheck, NeedsALossOutput) {
  Graph g;
  leaf(g, OpKind::Param, "a", f32({2}));
  EXPECT_THROW(gradCheck(g, {{"a", val({2}, {1, 2})}}), UserError);
}
