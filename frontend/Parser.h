//===- Parser.h - Tokens to syntax tree ------------------------*- C++ -*-===//
///
/// \file
/// A recursive-descent parser with panic-mode recovery: after an error it
/// skips to the end of the statement (the next newline) and goes on, so every
/// mistake in a file is reported once.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Ast.h"
#include "frontend/Lexer.h"

namespace nn {

/// The keys of a train block: data, test, optimizer, batch, ...
const std::vector<std::string> &trainSettings();

/// Parses `tokens` (from `lex`). Statements with errors are kept, marked
/// `broken`, so that lowering can poison the names they declare.
Program parse(const std::vector<Token> &tokens, DiagEngine &diags);

} // namespace nn
