//===- ElementwiseTextTest.cpp - Elementwise math as text -----------------===//
///
/// \file
/// The scalar view writes elementwise math from the same template every
/// backend evaluates (runtime/ElementwiseText.h): an op that is one
/// primitive is that primitive's arithmetic, any other a call by mnemonic.
///
//===----------------------------------------------------------------------===//

#include "runtime/ElementwiseText.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

std::string text(ElementwiseOp op, std::vector<std::string> args) {
  return elementwiseOpText(op, args);
}

TEST(ElementwiseText, OnePrimitiveIsItsArithmetic) {
  EXPECT_EQ(text(ElementwiseOp::Add, {"a", "b"}), "(a + b)");
  EXPECT_EQ(text(ElementwiseOp::Sub, {"a", "b"}), "(a - b)");
  EXPECT_EQ(text(ElementwiseOp::Mul, {"a", "b"}), "a * b");
  EXPECT_EQ(text(ElementwiseOp::Div, {"a", "b"}), "a / b");
  EXPECT_EQ(text(ElementwiseOp::Neg, {"a"}), "-a");
  EXPECT_EQ(text(ElementwiseOp::Exp, {"a"}), "exp(a)");
  EXPECT_EQ(text(ElementwiseOp::Log, {"a"}), "log(a)");
  EXPECT_EQ(text(ElementwiseOp::Tanh, {"a"}), "tanh(a)");
}

TEST(ElementwiseText, AFormulaIsACallByMnemonic) {
  // Stable sigmoid, relu and step are several primitives (a select, exp of
  // -|x|, ...): the view writes the op, not its stable formula.
  EXPECT_EQ(text(ElementwiseOp::Sigmoid, {"z[A]"}), "sigmoid(z[A])");
  EXPECT_EQ(text(ElementwiseOp::Relu, {"z[A]"}), "relu(z[A])");
  EXPECT_EQ(text(ElementwiseOp::Step, {"z[A]"}), "step(z[A])");
}

TEST(ElementwiseText, EveryOpNamesEachOperand) {
  for (OpKind k : allOps()) {
    if (family(k) != OpFamily::Elementwise)
      continue;
    std::vector<std::string> args;
    for (int i = 0; i < opInfo(k).arity; ++i)
      args.push_back("arg" + std::to_string(i));
    std::string t = elementwiseOpText(member<ElementwiseOp>(k), args);
    for (const std::string &a : args)
      EXPECT_NE(t.find(a), std::string::npos) << mnemonic(k) << ": " << t;
  }
}

TEST(ElementwiseText, ActivationGradientFromItsTemplate) {
  // act'(z) from the activation's output a, as the fused backward computes.
  EXPECT_EQ(activationPrimeText(Activation::Relu, "a"), "step(a)");
  EXPECT_EQ(activationPrimeText(Activation::Sigmoid, "a"), "a * (1 - a)");
  EXPECT_EQ(activationPrimeText(Activation::Tanh, "a"), "(1 - a * a)");
  for (Activation act : allActivations())
    EXPECT_NE(activationPrimeText(act, "h[A,1]").find("h[A,1]"),
              std::string::npos)
        << activationName(act);
}

TEST(ElementwiseText, OuterParensOnlyWhenTheyEncloseTheWhole) {
  EXPECT_EQ(withoutOuterParens("(a + b)"), "a + b");
  EXPECT_EQ(withoutOuterParens("(a + b) * (c + d)"), "(a + b) * (c + d)");
  EXPECT_EQ(withoutOuterParens("((a + b) * c)"), "(a + b) * c");
  EXPECT_EQ(withoutOuterParens("a"), "a");
  EXPECT_EQ(withoutOuterParens("()"), "()");
}

TEST(ElementwiseText, FusedBody) {
  // (%0 + 2) * %1, then negated: -(x + 2) * y.
  std::vector<ExprStep> body = {
      {OpKind::Const, {}, 2.0},
      {opOf(ElementwiseOp::Add), {0, -1}, 0},
      {opOf(ElementwiseOp::Mul), {-2, 1}, 0},
  };
  EXPECT_EQ(elementwiseText(body, {"x", "y"}), "(x + 2) * y");
  body.push_back({opOf(ElementwiseOp::Sigmoid), {-3}, 0});
  EXPECT_EQ(elementwiseText(body, {"x", "y"}), "sigmoid((x + 2) * y)");
  // A negative constant is parenthesized; the outer sum loses its parens.
  std::vector<ExprStep> sub = {{OpKind::Const, {}, -0.5},
                               {opOf(ElementwiseOp::Sub), {0, -1}, 0}};
  EXPECT_EQ(elementwiseText(sub, {"w"}), "w - (-0.5)");
}

} // namespace
