//===- InterpreterTest.cpp - The reference interpreter --------------------===//
///
/// \file
/// Each op's semantics on hand-built graphs, the lecture's churn numbers, and
/// every user error of the interpreter.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

/// Evaluates a one-op graph over leaves "a" (and "b") and returns its value.
Value eval1(OpKind k, const Value &a, int64_t axis = -1) {
  Graph g;
  NodeId x = leaf(g, OpKind::Param, "a", f32(a.shape));
  NodeId r = op(g, k, {x}, {}, axis);
  return Interpreter(g).run({{"a", a}})[r];
}

Value eval2(OpKind k, const Value &a, const Value &b, int64_t axis = -1) {
  Graph g;
  NodeId x = leaf(g, OpKind::Param, "a", f32(a.shape));
  NodeId y = leaf(g, OpKind::Param, "b", f32(b.shape));
  NodeId r = op(g, k, {x, y}, {}, axis);
  return Interpreter(g).run({{"a", a}, {"b", b}})[r];
}

/// The lecture's churn neuron: z = x @ w + b, loss = bce_logits(z, y).
struct Churn {
  Graph g;
  NodeId z, loss;
  Churn() {
    NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, 2}));
    NodeId y = leaf(g, OpKind::Label, "y", f32({kBatch}));
    NodeId w = leaf(g, OpKind::Param, "w", f32({2}));
    NodeId b = leaf(g, OpKind::Param, "b", TensorType::scalar());
    NodeId xw = op(g, OpKind::MatMul, {x, w}, f32({kBatch}));
    z = op(g, OpKind::Add, {xw, b}, f32({kBatch}));
    loss = op(g, OpKind::BceLogits, {z, y}, TensorType::scalar());
    g.outputs.push_back({"loss", loss});
  }
  ValueMap leaves(std::vector<double> x, std::vector<double> y) const {
    int64_t n = static_cast<int64_t>(y.size());
    return {{"x", val({n, 2}, x)},
            {"y", val({n}, y)},
            {"w", val({2}, {0.1, 0.5})},
            {"b", Value::scalar(0.4)}};
  }
};

} // namespace

TEST(Interpreter, LectureChurnNumbers) {
  Churn c;
  Interpreter in(c.g);
  // Users A..E: (hours, days, keep).
  std::vector<double> x = {15, 22, 8, 6, 60, 7, 12, 21, 5, 2};
  std::vector<double> y = {1, 0, 1, 0, 0};
  std::vector<Value> all = in.run(c.leaves(x, y));
  EXPECT_NEAR(all[c.z].data[1], 4.2, 1e-12);
  EXPECT_NEAR(all[c.loss].data[0], 3.6709, 5e-5);
  // One user at a time: B, D, E.
  auto one = [&](int user) {
    return in
        .run(c.leaves({x[2 * user], x[2 * user + 1]}, {y[user]}))[c.loss]
        .data[0];
  };
  EXPECT_NEAR(one(1), 4.2149, 5e-5);
  EXPECT_NEAR(one(3), 12.1000, 5e-5);
  EXPECT_NEAR(one(4), 2.0394, 5e-5);
  // The mean of the five per-user losses is the batch loss.
  double sum = 0;
  for (int u = 0; u < 5; ++u)
    sum += one(u);
  EXPECT_NEAR(sum / 5, all[c.loss].data[0], 1e-12);
}

TEST(Interpreter, HugeLogitsGiveFiniteLosses) {
  Churn c;
  Interpreter in(c.g);
  // w = (0.1, 0.5), b = 0.4: x = (1e5, -0.8) gives z = 1e4 exactly enough.
  for (double sign : {1.0, -1.0}) {
    double z = sign * 1e4;
    for (double y : {0.0, 1.0}) {
      ValueMap l = c.leaves({(z - 0.4) / 0.1, 0}, {y});
      double loss = in.run(l)[c.loss].data[0];
      ASSERT_TRUE(std::isfinite(loss)) << "z=" << z << " y=" << y;
      bool wrong = (z > 0) != (y > 0.5);
      EXPECT_NEAR(loss, wrong ? 1e4 : 0.0, 1e-6) << "z=" << z << " y=" << y;
    }
  }
  Value s = eval1(OpKind::Sigmoid, val({4}, {1e4, -1e4, 800, -800}));
  EXPECT_EQ(s.data, (std::vector<double>{1.0, 0.0, 1.0, 0.0}));
  Value ce = eval2(OpKind::SoftmaxCrossEntropy,
                   val({2, 3}, {1e4, -1e4, 0, -1e4, 0, 1e4}), val({2}, {1, 0}));
  ASSERT_TRUE(std::isfinite(ce.data[0]));
  EXPECT_NEAR(ce.data[0], (2e4 + 2e4) / 2, 1e-6);
}

TEST(Interpreter, UnaryOps) {
  std::vector<double> xs = {-2.5, -0.5, 0.0, 0.5, 3.0};
  Value a = val({5}, xs);
  auto each = [&](OpKind k, double (*f)(double)) {
    Value r = eval1(k, a);
    ASSERT_EQ(r.shape, a.shape);
    for (size_t i = 0; i < xs.size(); ++i)
      EXPECT_DOUBLE_EQ(r.data[i], f(xs[i])) << mnemonic(k) << " " << xs[i];
  };
  each(OpKind::Neg, [](double x) { return -x; });
  each(OpKind::Exp, [](double x) { return std::exp(x); });
  each(OpKind::Sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); });
  each(OpKind::Relu, [](double x) { return x > 0 ? x : 0.0; });
  each(OpKind::Tanh, [](double x) { return std::tanh(x); });
  each(OpKind::Step, [](double x) { return x > 0 ? 1.0 : 0.0; });
  Value l = eval1(OpKind::Log, val({3}, {1.0, std::exp(2.0), 0.0}));
  EXPECT_DOUBLE_EQ(l.data[0], 0.0);
  EXPECT_DOUBLE_EQ(l.data[1], 2.0);
  EXPECT_EQ(l.data[2], -INFINITY); // honest: log 0 = -inf
}

TEST(Interpreter, BinaryOpsBroadcastTrailingDims) {
  Value a = val({2, 3}, {1, 2, 3, 4, 5, 6});
  Value row = val({3}, {10, 20, 30});
  Value r = eval2(OpKind::Add, a, row);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.data, (std::vector<double>{11, 22, 33, 14, 25, 36}));
  r = eval2(OpKind::Sub, row, a); // broadcast on the left too
  EXPECT_EQ(r.data, (std::vector<double>{9, 18, 27, 6, 15, 24}));
  r = eval2(OpKind::Mul, a, Value::scalar(2));
  EXPECT_EQ(r.data, (std::vector<double>{2, 4, 6, 8, 10, 12}));
  Value col = val({2, 1}, {1, 2});
  r = eval2(OpKind::Div, a, col);
  EXPECT_EQ(r.data, (std::vector<double>{1, 2, 3, 2, 2.5, 3}));
  // [2,1] with [3] gives [2,3], as numpy.
  r = eval2(OpKind::Add, col, row);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r.data, (std::vector<double>{11, 21, 31, 12, 22, 32}));
}

TEST(Interpreter, MatMulAndTranspose) {
  Value a = val({2, 3}, {1, 2, 3, 4, 5, 6});
  Value b = val({3, 2}, {7, 8, 9, 10, 11, 12});
  Value r = eval2(OpKind::MatMul, a, b);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r.data, (std::vector<double>{58, 64, 139, 154}));
  r = eval2(OpKind::MatMul, a, val({3}, {1, 0, -1}));
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(r.data, (std::vector<double>{-2, -2}));
  r = eval1(OpKind::Transpose, a);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r.data, (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Interpreter, Expand) {
  Value like = val({2, 3}, std::vector<double>(6, 0));
  Value r = eval2(OpKind::Expand, Value::scalar(7), like);
  EXPECT_EQ(r.data, std::vector<double>(6, 7));
  r = eval2(OpKind::Expand, val({3}, {1, 2, 3}), like);
  EXPECT_EQ(r.data, (std::vector<double>{1, 2, 3, 1, 2, 3}));
  // Undoing sum(axis=1) of a [2,3]: unmarked (only one dim fits) and marked.
  r = eval2(OpKind::Expand, val({2}, {1, 2}), like);
  EXPECT_EQ(r.data, (std::vector<double>{1, 1, 1, 2, 2, 2}));
  r = eval2(OpKind::Expand, val({2}, {1, 2}), like, /*axis=*/1);
  EXPECT_EQ(r.data, (std::vector<double>{1, 1, 1, 2, 2, 2}));
  // Square: the axis decides, trailing broadcasting otherwise.
  Value sq = val({2, 2}, {0, 0, 0, 0});
  EXPECT_EQ(eval2(OpKind::Expand, val({2}, {1, 2}), sq, 1).data,
            (std::vector<double>{1, 1, 2, 2}));
  EXPECT_EQ(eval2(OpKind::Expand, val({2}, {1, 2}), sq, 0).data,
            (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(eval2(OpKind::Expand, val({2}, {1, 2}), sq).data,
            (std::vector<double>{1, 2, 1, 2}));
}

TEST(Interpreter, Reductions) {
  Value a = val({2, 3}, {1, 2, 3, 4, 5, 6});
  Value r = eval1(OpKind::Sum, a);
  EXPECT_TRUE(r.shape.empty());
  EXPECT_EQ(r.data, std::vector<double>{21});
  r = eval1(OpKind::Sum, a, 0);
  EXPECT_EQ(r.shape, std::vector<int64_t>{3});
  EXPECT_EQ(r.data, (std::vector<double>{5, 7, 9}));
  r = eval1(OpKind::Sum, a, 1);
  EXPECT_EQ(r.shape, std::vector<int64_t>{2});
  EXPECT_EQ(r.data, (std::vector<double>{6, 15}));
  EXPECT_EQ(eval1(OpKind::Mean, a).data, std::vector<double>{3.5});
  EXPECT_EQ(eval1(OpKind::Mean, a, 0).data,
            (std::vector<double>{2.5, 3.5, 4.5}));
  EXPECT_EQ(eval1(OpKind::Mean, a, 1).data, (std::vector<double>{2, 5}));
  Value c = eval1(OpKind::Count, a);
  EXPECT_TRUE(c.shape.empty());
  EXPECT_EQ(c.data, std::vector<double>{6});
  c = eval1(OpKind::Count, a, 0);
  EXPECT_EQ(c.shape, std::vector<int64_t>{3});
  EXPECT_EQ(c.data, (std::vector<double>{2, 2, 2}));
  c = eval1(OpKind::Count, a, 1);
  EXPECT_EQ(c.shape, std::vector<int64_t>{2});
  EXPECT_EQ(c.data, (std::vector<double>{3, 3}));
  // A count typed as a scalar is one number.
  Graph g;
  NodeId x = leaf(g, OpKind::Param, "a", f32({2, 3}));
  NodeId k = op(g, OpKind::Count, {x}, TensorType::scalar(), 0);
  EXPECT_EQ(Interpreter(g).run({{"a", a}})[k].data, std::vector<double>{2});
  // Middle axis of a 3-D value.
  Value b = val({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  r = eval1(OpKind::Sum, b, 1);
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r.data, (std::vector<double>{4, 6, 12, 14}));
}

TEST(Interpreter, SoftmaxIsStableAndNormalised) {
  Value z = val({2, 3}, {1, 2, 3, 1000, 1001, 1002});
  Value s = eval1(OpKind::Softmax, z);
  double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  double d = e1 + e2 + e3;
  for (int row = 0; row < 2; ++row) {
    EXPECT_NEAR(s.data[row * 3 + 0], e1 / d, 1e-15);
    EXPECT_NEAR(s.data[row * 3 + 1], e2 / d, 1e-15);
    EXPECT_NEAR(s.data[row * 3 + 2], e3 / d, 1e-15);
  }
}

TEST(Interpreter, OneHotAndLabelErrors) {
  Graph g;
  NodeId y = classLabel(g, "y", 10);
  Node oh = makeNode(OpKind::OneHot, {y});
  oh.classes = 10;
  oh.type = f32({kBatch, 10});
  NodeId h = g.add(oh);
  Interpreter in(g);
  Value r = in.run({{"y", val({2}, {3, 0})}})[h];
  ASSERT_EQ(r.shape, (std::vector<int64_t>{2, 10}));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(r.data[i], (i == 3 || i == 10) ? 1.0 : 0.0) << i;
  try {
    in.run({{"y", val({3}, {1, 12, 2})}});
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "error: label 12 out of range for class(10) (label 'y', row 1)");
  }
  EXPECT_THROW(in.run({{"y", val({1}, {-1})}}), UserError);
  try {
    in.run({{"y", val({1}, {1.5})}});
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "error: label 1.5 is not a class id (label 'y', row 0)");
  }
}

TEST(Interpreter, ClassLossesCheckLabelsAndAgree) {
  Graph g;
  NodeId z = leaf(g, OpKind::Param, "z", f32({2, 3}));
  NodeId y = classLabel(g, "y", 3);
  NodeId sm = op(g, OpKind::Softmax, {z}, f32({2, 3}));
  NodeId ce = op(g, OpKind::CrossEntropy, {sm, y}, TensorType::scalar());
  NodeId sce =
      op(g, OpKind::SoftmaxCrossEntropy, {z, y}, TensorType::scalar());
  Node ohn = makeNode(OpKind::OneHot, {y});
  ohn.classes = 3;
  NodeId oh = g.add(ohn);
  NodeId dense = op(g, OpKind::SoftmaxCrossEntropy, {z, oh});
  NodeId denseP = op(g, OpKind::CrossEntropy, {sm, oh});
  Interpreter in(g);
  ValueMap l = {{"z", val({2, 3}, {0.5, -1, 2, 3, 0, 0})},
                {"y", val({2}, {2, 0})}};
  std::vector<Value> v = in.run(l);
  auto lse = [](double a, double b, double c) {
    return std::log(std::exp(a) + std::exp(b) + std::exp(c));
  };
  double want = ((lse(0.5, -1, 2) - 2) + (lse(3, 0, 0) - 3)) / 2;
  EXPECT_NEAR(v[sce].data[0], want, 1e-14);
  EXPECT_NEAR(v[ce].data[0], want, 1e-14);
  EXPECT_NEAR(v[dense].data[0], want, 1e-14);
  EXPECT_NEAR(v[denseP].data[0], want, 1e-14);
  l["y"] = val({2}, {0, 3});
  try {
    in.run(l);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("label 3 out of range for class(3)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Interpreter, ElementLosses) {
  // Bce on probabilities: p == y in {0, 1} is 0, not NaN; p = 0, y = 1 is
  // an honest +inf.
  Value p = val({4, 1}, {0.0, 1.0, 0.25, 0.9});
  Value y = val({4}, {0.0, 1.0, 1.0, 0.0});
  double want = (0 + 0 - std::log(0.25) - std::log(0.1)) / 4;
  EXPECT_NEAR(eval2(OpKind::Bce, p, y).data[0], want, 1e-14);
  EXPECT_EQ(eval2(OpKind::Bce, val({1}, {0.0}), val({1}, {1.0})).data[0],
            INFINITY);
  // Soft targets in bce.
  EXPECT_NEAR(eval2(OpKind::Bce, val({1}, {0.3}), val({1}, {0.4})).data[0],
              -(0.4 * std::log(0.3) + 0.6 * std::log(0.7)), 1e-15);
  // bce_logits equals bce(sigmoid(z)) where the latter is accurate.
  for (double z : {-3.0, -0.2, 0.0, 1.5}) {
    for (double t : {0.0, 1.0, 0.3}) {
      double s = 1 / (1 + std::exp(-z));
      EXPECT_NEAR(eval2(OpKind::BceLogits, val({1}, {z}), val({1}, {t}))
                      .data[0],
                  -(t * std::log(s) + (1 - t) * std::log(1 - s)), 1e-14);
    }
  }
  // Mse over all elements, [N,1] against [N].
  EXPECT_NEAR(eval2(OpKind::Mse, val({3, 1}, {1, 2, 3}), val({3}, {0, 2, 5}))
                  .data[0],
              (1.0 + 0 + 4) / 3, 1e-15);
  EXPECT_NEAR(eval2(OpKind::Mse, val({2, 2}, {1, 2, 3, 4}),
                    val({2, 2}, {0, 0, 0, 0}))
                  .data[0],
              30.0 / 4, 1e-15);
}

TEST(Interpreter, ConstValues) {
  Graph g;
  NodeId c = constant(g, 2.5);
  NodeId s = constant(g, 1.5, f32({2, 2}));
  Node t = makeNode(OpKind::Const, {});
  t.values = {1, 2, 3};
  t.type = f32({3});
  NodeId v = g.add(t);
  std::vector<Value> r = Interpreter(g).run({});
  EXPECT_TRUE(r[c].shape.empty());
  EXPECT_EQ(r[c].data, std::vector<double>{2.5});
  EXPECT_EQ(r[s].data, std::vector<double>(4, 1.5));
  EXPECT_EQ(r[v].data, (std::vector<double>{1, 2, 3}));
}

TEST(Interpreter, LeafErrorsNameTheLeaf) {
  Churn c;
  c.g[0].loc = {"churn.nn", 3, 7, 1}; // the input x
  Interpreter in(c.g);
  ValueMap l = c.leaves({1, 2, 3, 4}, {0, 1});
  ValueMap missing = l;
  missing.erase("w");
  try {
    in.run(missing);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()), "error: no value given for param 'w'");
  }
  missing = l;
  missing.erase("x");
  try {
    in.run(missing);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "churn.nn:3:7: error: no value given for input 'x'");
  }
  ValueMap bad = l;
  bad["w"] = val({3}, {1, 2, 3});
  try {
    in.run(bad);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "error: value for param 'w' has shape [3] but its type f32[2] "
              "needs [2]");
  }
  bad = l;
  bad["x"] = val({2, 3}, {1, 2, 3, 4, 5, 6});
  try {
    in.run(bad);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "churn.nn:3:7: error: value for input 'x' has shape [2,3] but "
              "its type f32[N,2] needs [2,2]");
  }
  bad = l;
  bad["y"] = val({3}, {0, 1, 1});
  try {
    in.run(bad);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()),
              "error: label 'y' has 3 rows but input 'x' has 2");
  }
  bad = l;
  bad["w"] = val({2}, {1});
  EXPECT_THROW(in.run(bad), UserError);
}

TEST(Interpreter, StepReturnsOutputsAndUpdates) {
  // w' = w - 0.5 * w (a fake update) and an output.
  Graph g;
  NodeId w = leaf(g, OpKind::Param, "w", f32({2}));
  NodeId half = constant(g, 0.5);
  NodeId hw = op(g, OpKind::Mul, {half, w}, f32({2}));
  NodeId nw = op(g, OpKind::Sub, {w, hw}, f32({2}));
  NodeId s = op(g, OpKind::Sum, {w}, TensorType::scalar());
  g.outputs.push_back({"total", s});
  g.updates.push_back({w, nw});
  Interpreter::Result r = Interpreter(g).step({{"w", val({2}, {4, -2})}});
  ASSERT_EQ(r.outputs.count("total"), 1u);
  EXPECT_EQ(r.outputs["total"].data, std::vector<double>{2});
  ASSERT_EQ(r.updates.count("w"), 1u);
  EXPECT_EQ(r.updates["w"].data, (std::vector<double>{2, -1}));
}

TEST(Interpreter, WrongTypeIsAnInternalError) {
  Graph g;
  NodeId a = leaf(g, OpKind::Param, "a", f32({2}));
  op(g, OpKind::Neg, {a}, f32({3}));
  EXPECT_THROW(Interpreter(g).run({{"a", val({2}, {1, 2})}}), InternalError);
}

TEST(Interpreter, TensorConversions) {
  Tensor t({2, 2});
  t.data = {1.5f, -2.0f, 0.1f, 3.0f};
  Value v = toValue(t);
  EXPECT_EQ(v.shape, t.shape);
  EXPECT_EQ(v.data[2], static_cast<double>(0.1f));
  v.data[3] = 1.0 / 3.0;
  Tensor back = toTensor(v);
  EXPECT_EQ(back.shape, t.shape);
  EXPECT_EQ(back.data[0], 1.5f);
  EXPECT_EQ(back.data[3], static_cast<float>(1.0 / 3.0));
}

TEST(Interpreter, EvaluatesOnlyWhatOutputsNeed) {
  // Predicting needs no label: "pred" does not depend on y.
  Churn c;
  NodeId pred = c.g.add(makeNode(OpKind::Sigmoid, {c.z}));
  c.g.outputs.push_back({"pred", pred});
  Interpreter in(c.g);
  ValueMap l = c.leaves({8, 6}, {0});
  l.erase("y");
  EXPECT_THROW(in.run(l), UserError); // everything needs the label
  ValueMap r = in.outputs(l, {"pred"});
  ASSERT_EQ(r.count("pred"), 1u);
  EXPECT_NEAR(r["pred"].data[0], 1 / (1 + std::exp(-4.2)), 1e-15);
  std::vector<Value> v = in.run(l, {pred});
  EXPECT_TRUE(v[c.loss].data.empty()); // not evaluated
  try {
    in.outputs(l, {"nope"});
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()), "error: the graph has no output 'nope'");
  }
}
