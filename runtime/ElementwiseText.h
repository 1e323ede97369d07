//===- ElementwiseText.h - A fused elementwise body as arithmetic -*- C++ -*-===//
///
/// \file
/// How `nnc explain --scalar` writes a fused.elementwise node's body: as
/// infix arithmetic over its operands' names or values ("(x + 2) * y").
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// `body` written with `args[k]` for operand k; constants as numbers
/// (negative ones in parentheses), the outermost parentheses dropped.
std::string elementwiseText(const std::vector<ExprStep> &body,
                            const std::vector<std::string> &args);

} // namespace nn
