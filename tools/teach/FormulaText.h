//===- FormulaText.h - Math templates written as infix text ----*- C++ -*-===//
///
/// \file
/// An emitter for the math templates of ir/ElementwiseMath.h that writes a
/// formula as a reader would instead of computing it: `A * (1 - A)`,
/// `1 - A * A`. The equations of `nnc explain` and the derivative of an
/// activation come from the same templates every backend runs, so the text
/// cannot drift from what is computed.
///
/// Each value carries its text and the precedence of its outermost
/// operator; an operand is parenthesized only where its precedence is lower
/// than its place needs: 0 a whole formula (`t where a > b, else f`), 1 `+`
/// `-`, 2 `*` `/` `@`, 3 unary minus, 4 atoms, calls and `x^T`.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ElementwiseMath.h"
#include "ir/Printer.h"

#include <optional>
#include <string>

namespace nn {

/// One formula (or operand) as text.
struct FormulaText {
  static constexpr int kTop = 0, kSum = 1, kProduct = 2, kUnary = 3, kAtom = 4;
  std::string text;
  int prec = kAtom;
  /// The constant 1 (so `1 * x` can be written `x`).
  bool one = false;

  /// The text as an operand where precedence `need` is required.
  std::string at(int need) const {
    return prec < need ? "(" + text + ")" : text;
  }
};

/// The text emitter (see ir/ElementwiseMath.h for the interface).
struct FormulaEmitter {
  using Value = FormulaText;

  /// Write `1 * x` as `x` (the chain rule's seed, inside a formula).
  bool dropOnes = false;
  /// Set when a formula used more than arithmetic (exp, log, tanh, a
  /// select): such an op reads better as a call by its mnemonic.
  bool usedCalls = false;

  /// A negative number is parenthesized as an operand: `a * (-2)`.
  Value constant(double c) {
    return {formatDouble(c), c < 0 ? Value::kSum : Value::kAtom, c == 1.0};
  }
  Value neg(Value a) { return {"-" + a.at(Value::kAtom), Value::kUnary}; }
  Value add(Value a, Value b) { return infix(a, " + ", b, Value::kSum); }
  Value sub(Value a, Value b) { return infix(a, " - ", b, Value::kSum); }
  Value mul(Value a, Value b) {
    if (dropOnes && a.one)
      return b;
    return infix(a, " * ", b, Value::kProduct);
  }
  Value div(Value a, Value b) { return infix(a, " / ", b, Value::kProduct); }
  Value exp(Value a) { return call("exp", a); }
  Value log(Value a) { return call("log", a); }
  Value log1p(Value a) { return call("log1p", a); }
  Value tanh(Value a) { return call("tanh", a); }
  Value sqrt(Value a) { return call("sqrt", a); }
  Value erf(Value a) { return call("erf", a); }
  /// `t where a > b, else f`.
  Value selectGt(Value a, Value b, Value t, Value f) {
    usedCalls = true;
    return {t.at(Value::kSum) + " where " + a.at(Value::kSum) + " > " +
                b.at(Value::kSum) + ", else " + f.at(Value::kSum),
            Value::kTop};
  }

  /// `a op b` at precedence `prec`, left-associative.
  static Value infix(const Value &a, const char *op, const Value &b, int prec) {
    return {a.at(prec) + op + b.at(prec + 1), prec};
  }
  Value call(const char *f, const Value &a) {
    usedCalls = true;
    return {std::string(f) + "(" + a.text + ")", Value::kAtom};
  }
};

namespace formula_detail {

/// Whether act'(a) computed from a = act(z) equals act'(z) itself at a few
/// points of each sign: then the formula reads the same on Z. An
/// activation whose derivative is written in its input (gelu, silu) reads
/// on Z by definition.
inline bool sameOnPreactivation(Activation act) {
  if (gradFromInput(act))
    return true;
  DoubleEmitter d;
  for (double z : {-2.0, -0.5, 0.5, 2.0}) {
    // One operand in storage for two: GCC's -Warray-bounds does not see
    // that the binary cases are unreachable for a unary op.
    double args[2] = {z, 0.0};
    double a =
        emitElementwise(d, activationOp(act), std::span<const double>(args, 1));
    if (emitActivationGrad(d, act, a) != emitActivationGrad(d, act, z))
      return false;
  }
  return true;
}

/// The unary elementwise op whose formula on `x` is `text`, written as a
/// call (`step(Z)`), if there is one and it is not already the text.
inline std::string namedBy(const std::string &text, const FormulaText &x) {
  for (OpKind k : allOps()) {
    if (family(k) != OpFamily::Elementwise || opInfo(k).arity != 1)
      continue;
    FormulaEmitter e;
    std::string call = std::string(mnemonic(k)) + "(" + x.text + ")";
    if (emitElementwise(e, k, std::span<const FormulaText>(&x, 1)).text ==
            text &&
        call != text)
      return call;
  }
  return "";
}

} // namespace formula_detail

/// `act'(Z)` as explain writes it, from emitActivationGrad: with the
/// activation's output A, as the fused backward computes it (`A * (1 -
/// A)`), or with Z where the formula is the same function of Z (relu:
/// step(A) = step(Z)); prefixed with the elementwise op that computes it
/// where one does (`step(Z): 1 where Z > 0, else 0`). `act` is not None;
/// `param` is leaky_relu's slope.
inline std::string activationGradText(Activation act, double param = 0) {
  FormulaEmitter e;
  FormulaText x{formula_detail::sameOnPreactivation(act) ? "Z" : "A"};
  std::string text = emitActivationGrad(e, act, x, param).text;
  std::string name = formula_detail::namedBy(text, x);
  return name.empty() ? text : name + ": " + text;
}

/// The infix text of elementwise op `op` on `args`, or nothing when its
/// formula is more than arithmetic (then a call by its mnemonic reads
/// better: `sigmoid(x)`, not its stable formula). `dropOnes`: write
/// `1 * x` as `x`.
inline std::optional<FormulaText>
arithmeticText(OpKind op, std::span<const FormulaText> args, bool dropOnes) {
  FormulaEmitter e;
  e.dropOnes = dropOnes;
  FormulaText t = emitElementwise(e, op, args);
  if (e.usedCalls)
    return std::nullopt;
  return t;
}

} // namespace nn
