//===- IRText.h - Lexical pieces shared by printer and parser --*- C++ -*-===//
///
/// \file
/// The spelling rules of the IR text form, in one place so the printer and
/// the parser agree.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <string_view>

namespace nn {

/// [A-Za-z_][A-Za-z0-9_.]*: printable bare, as a label or an output name.
bool isIRIdentifier(std::string_view s);
/// `s` in double quotes with `"`, `\` and control characters escaped.
std::string quoteIRString(std::string_view s);
/// "binary", "class", "real".
const char *labelKindName(LabelKind k);
/// Input, Label, Param, State: leaves whose name is printed as a string.
bool hasLeafName(OpKind k);

} // namespace nn
