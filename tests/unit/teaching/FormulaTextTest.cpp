//===- FormulaTextTest.cpp - Math templates written as text ---------------===//
///
/// \file
/// The text emitter of the teaching views (tools/teach/FormulaText.h):
/// parentheses only where precedence needs them, ops that are more than
/// arithmetic left to a call by mnemonic, and each activation's derivative
/// written from emitActivationGrad as `nnc explain` has always written it.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/FormulaText.h"

#include <gtest/gtest.h>

#include <vector>

using namespace nn;

namespace {

FormulaText var(const char *name) { return {name}; }

std::optional<std::string> text(OpKind op, std::vector<FormulaText> args,
                                bool dropOnes = false) {
  std::optional<FormulaText> t = arithmeticText(op, args, dropOnes);
  if (!t)
    return std::nullopt;
  return t->text;
}

TEST(FormulaText, ParenthesesOnlyWherePrecedenceNeedsThem) {
  FormulaEmitter e;
  FormulaText a = var("a"), b = var("b"), c = var("c");
  EXPECT_EQ(e.sub(a, e.sub(b, c)).text, "a - (b - c)");
  EXPECT_EQ(e.sub(e.sub(a, b), c).text, "a - b - c");
  EXPECT_EQ(e.add(a, e.mul(b, c)).text, "a + b * c");
  EXPECT_EQ(e.mul(e.add(a, b), c).text, "(a + b) * c");
  EXPECT_EQ(e.div(a, e.mul(b, c)).text, "a / (b * c)");
  EXPECT_EQ(e.neg(e.add(a, b)).text, "-(a + b)");
  EXPECT_EQ(e.mul(e.neg(a), b).text, "-a * b");
  EXPECT_EQ(e.mul(a, e.constant(-2)).text, "a * (-2)");
  EXPECT_EQ(e.exp(e.add(a, b)).text, "exp(a + b)");
}

TEST(FormulaText, ArithmeticOpsAreInfixOthersAreCalls) {
  FormulaText x = var("x"), y = var("y");
  EXPECT_EQ(text(OpKind::Add, {x, y}), "x + y");
  EXPECT_EQ(text(OpKind::Div, {x, y}), "x / y");
  // More than arithmetic (a select, exp, tanh): the caller writes a call.
  for (Activation a : allActivations()) {
    OpKind op = opOf(activationOp(a));
    EXPECT_EQ(text(op, {x}), std::nullopt) << mnemonic(op);
  }
}

TEST(FormulaText, OneTimesXIsXOnlyWhenAsked) {
  FormulaEmitter e;
  FormulaText one = e.constant(1.0), x = var("x");
  EXPECT_EQ(text(OpKind::Mul, {one, x}), "1 * x");
  EXPECT_EQ(text(OpKind::Mul, {one, x}, true), "x");
  EXPECT_EQ(text(OpKind::Mul, {x, one}, true), "x * 1");
}

TEST(FormulaText, ActivationDerivativesAsExplainWritesThem) {
  EXPECT_EQ(activationGradText(*activationOf(OpKind::Sigmoid)), "A * (1 - A)");
  EXPECT_EQ(activationGradText(*activationOf(OpKind::Tanh)), "1 - A * A");
  // relu'(a) = step(a) is the same function of Z: written with Z, and
  // named by the elementwise op that computes it.
  EXPECT_EQ(activationGradText(*activationOf(OpKind::Relu)),
            "step(Z): 1 where Z > 0, else 0");
}

TEST(FormulaText, EveryActivationHasADerivativeText) {
  for (Activation a : allActivations())
    EXPECT_FALSE(activationGradText(a).empty()) << activationName(a);
}

} // namespace
