//===- IRLexer.h - Tokens of the IR text form ------------------*- C++ -*-===//
///
/// \file
/// The lexer of the IR text form (ir/IRParser.cpp): identifiers, %labels,
/// numbers, strings, punctuation; `#` comments are skipped.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <string>

namespace nn::irtext {

enum class Tok { Ident, Label, Number, String, Punct, End, Bad };

struct Token {
  Tok kind;
  std::string text; // Label: without '%'; String: unescaped; Punct: itself
  int line, col, len;
};

class Lexer {
public:
  explicit Lexer(const std::string &text) : text(text) {}

  /// The next token; a Bad token's text is the error message.
  Token next();

private:
  const std::string &text;
  size_t pos = 0;
  int line = 1, col = 1;

  void advance();
  void skipSpace();
  Token lexString(int l, int c);
};

} // namespace nn::irtext
