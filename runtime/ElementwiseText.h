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

/// Elementwise op `op` applied to `args` (texts), with parentheses around a
/// sum or difference ("(a + b)", "a * b", "-a", "exp(a)", "sigmoid(a)").
std::string elementwiseOpText(ElementwiseOp op,
                              const std::vector<std::string> &args);

/// `s` without the parentheses that enclose it whole, if any.
std::string withoutOuterParens(const std::string &s);

/// `body` written with `args[k]` for operand k; constants as numbers
/// (negative ones in parentheses), the outermost parentheses dropped.
std::string elementwiseText(const std::vector<ExprStep> &body,
                            const std::vector<std::string> &args);

} // namespace nn
