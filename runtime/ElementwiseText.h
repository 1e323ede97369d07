//===- ElementwiseText.h - Elementwise math as arithmetic text -*- C++ -*-===//
///
/// \file
/// How `nnc explain --scalar` writes elementwise math: the text of one op
/// and of a fused.elementwise body, as infix arithmetic over its operands'
/// names or values ("(x + 2) * y"). The text comes from the same template
/// every backend evaluates (ir/ElementwiseMath.h, emitElementwise) through a
/// text emitter: an op whose math is one primitive of the emitter (add, neg,
/// exp, ...) is written as that primitive ("a + b", "-a", "exp(a)"); any
/// other (sigmoid, relu, ...) as a call by its mnemonic ("sigmoid(a)"). A
/// new elementwise op needs nothing here.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// An emitter (ir/ElementwiseMath.h) whose values are text: each primitive
/// as infix arithmetic, a sum or difference in parentheses so that any
/// nesting reads right; constants as numbers (negative ones in
/// parentheses); `a > 0 ? 1 : 0` as step(a), the way the lecture writes
/// relu'.
struct TextEmitter {
  using Value = std::string;
  Value constant(double c);
  Value neg(Value a) { return "-" + a; }
  Value add(Value a, Value b) { return "(" + a + " + " + b + ")"; }
  Value sub(Value a, Value b) { return "(" + a + " - " + b + ")"; }
  Value mul(Value a, Value b) { return a + " * " + b; }
  Value div(Value a, Value b) { return a + " / " + b; }
  Value exp(Value a) { return "exp(" + a + ")"; }
  Value log(Value a) { return "log(" + a + ")"; }
  Value log1p(Value a) { return "log1p(" + a + ")"; }
  Value tanh(Value a) { return "tanh(" + a + ")"; }
  Value sqrt(Value a) { return "sqrt(" + a + ")"; }
  Value erf(Value a) { return "erf(" + a + ")"; }
  Value selectGt(Value a, Value b, Value t, Value f);
};

/// act'(z) written with the activation's output `a` (its input z for gelu
/// and silu, gradFromInput), from the template of the fused backward
/// (emitActivationGrad): "step(a)", "a * (1 - a)", "(1 - a * a)". `act` is
/// not None; `param` is leaky_relu's slope.
std::string activationPrimeText(Activation act, const std::string &a,
                                double param = 0);

/// Elementwise op `op` applied to `args` (texts), with parentheses around a
/// sum or difference ("(a + b)", "a * b", "-a", "exp(a)", "sigmoid(a)");
/// an op with a slope (leaky_relu) shows it: "leaky_relu(a, 0.2)".
std::string elementwiseOpText(ElementwiseOp op,
                              const std::vector<std::string> &args,
                              double param = 0);

/// `s` without the parentheses that enclose it whole, if any.
std::string withoutOuterParens(const std::string &s);

/// `body` written with `args[k]` for operand k; constants as numbers
/// (negative ones in parentheses), the outermost parentheses dropped.
std::string elementwiseText(const std::vector<ExprStep> &body,
                            const std::vector<std::string> &args);

} // namespace nn
