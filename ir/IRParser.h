//===- IRParser.h - Reading the IR text form -------------------*- C++ -*-===//
///
/// \file
/// Parses the text printGraph writes (`#` starts a comment) back into a
/// Graph.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>

namespace nn {

/// Parses `text` (named `file` in diagnostics). On bad text reports
/// `file:line:col: error: ...` to `diags` and throws DiagnosedError; never
/// crashes. The result is structurally valid (operand counts, operands
/// defined before use) but not otherwise verified: run verifyGraph.
Graph parseGraph(const std::string &file, const std::string &text,
                 DiagEngine &diags);

} // namespace nn
