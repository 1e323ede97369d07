//===- ElementwiseMathTest.cpp - Scalar math written once -----------------===//
///
/// \file
/// The elementwise templates with the double emitter (values, stability) and
/// with a string emitter (the same formulas print as code for a backend).
///
//===----------------------------------------------------------------------===//

#include "ir/ElementwiseMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace nn;

namespace {

/// Prints expressions, the way the CUDA printer will.
struct StringEmitter {
  using Value = std::string;
  Value constant(double c) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", c);
    return b;
  }
  Value neg(Value a) { return "(-" + a + ")"; }
  Value add(Value a, Value b) { return "(" + a + " + " + b + ")"; }
  Value sub(Value a, Value b) { return "(" + a + " - " + b + ")"; }
  Value mul(Value a, Value b) { return "(" + a + " * " + b + ")"; }
  Value div(Value a, Value b) { return "(" + a + " / " + b + ")"; }
  Value exp(Value a) { return "exp(" + a + ")"; }
  Value log(Value a) { return "log(" + a + ")"; }
  Value log1p(Value a) { return "log1p(" + a + ")"; }
  Value tanh(Value a) { return "tanh(" + a + ")"; }
  Value sqrt(Value a) { return "sqrt(" + a + ")"; }
  Value erf(Value a) { return "erf(" + a + ")"; }
  Value selectGt(Value a, Value b, Value t, Value f) {
    return "(" + a + " > " + b + " ? " + t + " : " + f + ")";
  }
};

double run(OpKind k, std::vector<double> args) {
  DoubleEmitter e;
  return emitElementwise(e, k, std::span<const double>(args));
}

} // namespace

TEST(ElementwiseMath, DoubleValues) {
  EXPECT_EQ(run(OpKind::Neg, {2}), -2);
  EXPECT_DOUBLE_EQ(run(OpKind::Exp, {1}), std::exp(1.0));
  EXPECT_DOUBLE_EQ(run(OpKind::Log, {2}), std::log(2.0));
  EXPECT_EQ(run(OpKind::Log, {0}), -INFINITY);
  EXPECT_DOUBLE_EQ(run(OpKind::Tanh, {0.3}), std::tanh(0.3));
  EXPECT_EQ(run(OpKind::Relu, {-1}), 0);
  EXPECT_EQ(run(OpKind::Relu, {1.5}), 1.5);
  EXPECT_TRUE(std::isnan(run(OpKind::Relu, {NAN})));
  EXPECT_EQ(run(OpKind::Step, {0}), 0);
  EXPECT_EQ(run(OpKind::Step, {1e-300}), 1);
  EXPECT_EQ(run(OpKind::Add, {1, 2}), 3);
  EXPECT_EQ(run(OpKind::Sub, {1, 2}), -1);
  EXPECT_EQ(run(OpKind::Mul, {3, 2}), 6);
  EXPECT_EQ(run(OpKind::Div, {3, 2}), 1.5);
  EXPECT_EQ(run(OpKind::Abs, {-2.5}), 2.5);
  EXPECT_EQ(run(OpKind::Abs, {2.5}), 2.5);
  EXPECT_TRUE(std::isnan(run(OpKind::Abs, {NAN})));
  EXPECT_EQ(run(OpKind::Softsign, {3}), 0.75); // x / (1 + |x|)
  EXPECT_EQ(run(OpKind::Softsign, {-3}), -0.75);
  EXPECT_EQ(run(OpKind::Softsign, {0}), 0);
}

TEST(ElementwiseMath, SigmoidIsStable) {
  for (double x : {-30.0, -2.0, -0.1, 0.0, 0.1, 2.0, 30.0})
    EXPECT_NEAR(run(OpKind::Sigmoid, {x}), 1 / (1 + std::exp(-x)), 1e-16)
        << x;
  // Where the naive form overflows exp(-x), the stable one does not.
  EXPECT_EQ(run(OpKind::Sigmoid, {-1000}), 0.0);
  EXPECT_EQ(run(OpKind::Sigmoid, {1000}), 1.0);
  EXPECT_GT(run(OpKind::Sigmoid, {-700}), 0.0); // not flushed early
  EXPECT_TRUE(std::isnan(run(OpKind::Sigmoid, {NAN})));
}

TEST(ElementwiseMath, StableLossTerms) {
  DoubleEmitter e;
  // softplus(z) = log(1 + e^z).
  for (double z : {-5.0, 0.0, 3.0})
    EXPECT_NEAR(emitSoftplus(e, z), std::log1p(std::exp(z)), 1e-15);
  EXPECT_EQ(emitSoftplus(e, 1e4), 1e4);
  EXPECT_EQ(emitSoftplus(e, -1e4), 0.0);
  EXPECT_EQ(emitBceLogitsTerm(e, 1e4, 0.0), 1e4);
  EXPECT_EQ(emitBceLogitsTerm(e, -1e4, 1.0), 1e4);
  EXPECT_EQ(emitBceLogitsTerm(e, 1e4, 1.0), 0.0);
  EXPECT_EQ(emitBceTerm(e, 0.0, 0.0), 0.0);
  EXPECT_EQ(emitBceTerm(e, 1.0, 1.0), 0.0);
  EXPECT_EQ(emitBceTerm(e, 0.0, 1.0), INFINITY);
  EXPECT_EQ(emitNegXLogY(e, 0.0, 0.0), 0.0);
  EXPECT_NEAR(emitLogSumExp(e, 1000.0, 1.0 + std::exp(-1.0)),
              1000 + std::log1p(std::exp(-1.0)), 1e-12);
  EXPECT_EQ(emitSquaredError(e, 3.0, 1.0), 4.0);
}

TEST(ElementwiseMath, StringEmitterPrintsTheSameFormulas) {
  StringEmitter e;
  std::vector<std::string> ab = {"a", "b"};
  EXPECT_EQ(emitElementwise(e, OpKind::Add, std::span<const std::string>(ab)),
            "(a + b)");
  std::vector<std::string> x = {"x"};
  EXPECT_EQ(emitElementwise(e, OpKind::Relu, std::span<const std::string>(x)),
            "(0 > x ? 0 : x)");
  EXPECT_EQ(emitElementwise(e, OpKind::Sigmoid,
                            std::span<const std::string>(x)),
            "(x > 0 ? (1 / (1 + exp((-(x > 0 ? x : (-x)))))) : "
            "(exp((-(x > 0 ? x : (-x)))) / (1 + exp((-(x > 0 ? x : (-x)))))))");
}

TEST(ElementwiseMath, NonElementwiseOpIsAnInternalError) {
  DoubleEmitter e;
  std::vector<double> a = {1, 2};
  EXPECT_THROW(emitElementwise(e, OpKind::MatMul, std::span<const double>(a)),
               InternalError);
  EXPECT_THROW(emitElementwise(e, OpKind::Add, std::span<const double>(a.data(), 1)),
               InternalError);
}

// Every activation of the op table (NN_ACTIVATION rows), a new one included
// without editing this test: its derivative written from its output, or
// from its input for the activations whose GradFrom is Input (gelu, silu)
// (emitActivationGrad, what the fused backward computes) equals the
// central difference of its value (emitActivation), away from kinks;
// leaky_relu with slopes 0, 0.01 and 0.2 (its number, Node::param).
TEST(ElementwiseMath, EveryActivationsDerivativeFromItsOutput) {
  ASSERT_FALSE(allActivations().empty());
  for (Activation act : allActivations())
    for (double slope : {0.0, 0.01, 0.2}) {
      if (slope != 0 && act != Activation::LeakyRelu)
        continue;
      DoubleEmitter e;
      int checked = 0;
      for (double x = -3.05; x < 3.1; x += 0.25) {
        const double h = 1e-6;
        double left = emitActivation(e, act, x - h, slope);
        double right = emitActivation(e, act, x + h, slope);
        double numeric = (right - left) / (2 * h);
        double mid = emitActivation(e, act, x, slope);
        double oneSidedL = (mid - left) / h;
        double oneSidedR = (right - mid) / h;
        if (std::abs(oneSidedL - oneSidedR) > 1e-4)
          continue; // a kink (relu at 0)
        double operand = gradFromInput(act) ? x : mid;
        double grad = emitActivationGrad(e, act, operand, slope);
        EXPECT_NEAR(grad, numeric, 1e-6 + 1e-5 * std::abs(numeric))
            << activationName(act) << "'(" << x << "), slope " << slope;
        ++checked;
      }
      EXPECT_GT(checked, 20) << activationName(act);
    }
}

// The new activations against values from PyTorch 1.13 (float64):
// torch.nn.functional.gelu (erf form), silu, softplus, leaky_relu(0.2).
TEST(ElementwiseMath, NewActivationsMatchPyTorchValues) {
  DoubleEmitter e;
  struct Row {
    Activation act;
    double x, want;
  };
  const Row rows[] = {
      {Activation::Gelu, -1.5, -0.10021080190328704},
      {Activation::Gelu, 0.5, 0.34573123063700656},
      {Activation::Silu, -1.5, -0.2736382857095345},
      {Activation::Silu, 0.5, 0.3112296656009273},
      {Activation::Softplus, -1.5, 0.2014132779827524},
      {Activation::Softplus, 30.0, 30.0},
      {Activation::LeakyRelu, -1.5, -0.30000000000000004},
      {Activation::LeakyRelu, 0.5, 0.5},
  };
  for (const Row &r : rows)
    EXPECT_NEAR(emitActivation(e, r.act, r.x, 0.2), r.want,
                1e-15 + 1e-14 * std::abs(r.want))
        << activationName(r.act) << "(" << r.x << ")";
}

// Each activation is the elementwise op of the same name.
TEST(ElementwiseMath, ActivationsAreTheirElementwiseOps) {
  for (Activation act : allActivations()) {
    OpKind op = opOf(activationOp(act));
    EXPECT_EQ(activationOf(op), act) << activationName(act);
    EXPECT_STREQ(activationName(act), mnemonic(op));
    DoubleEmitter e;
    double x = 0.7;
    EXPECT_EQ(emitActivation(e, act, x),
              emitElementwise(e, op, std::span<const double>(&x, 1)));
  }
  EXPECT_FALSE(activationOf(OpKind::Exp));
  EXPECT_STREQ(activationName(Activation::None), "none");
}
