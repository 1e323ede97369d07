//===- Lexer.h - Tokens of the .nn language --------------------*- C++ -*-===//
///
/// \file
/// Splits a .nn file into tokens. Newlines are tokens (they end statements);
/// runs of blank lines and comments collapse into one. Bad input becomes an
/// `Invalid` token after an error is reported, so the parser can skip the
/// statement without reporting it again.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"

#include <string>
#include <vector>

namespace nn {

enum class Tok {
  Ident,   // fc1, relu, f32
  Keyword, // model input label param loss train
  Number,  // 128, 0.05, 1e-4
  String,  // "data/churn.csv"
  LParen,
  RParen,
  LSquare,
  RSquare,
  LBrace,
  RBrace,
  Colon,
  Comma,
  Equal,
  At,
  Plus,
  Minus,
  Star,
  Slash,
  Newline,
  Eof,
  Invalid, // an error was reported for it already
};

/// The token kind as `--stage=tokens` prints it: "identifier", "l_paren", ...
const char *tokName(Tok t);

struct Token {
  Tok kind = Tok::Eof;
  /// The source text (for a string, with its quotes).
  std::string text;
  SrcLoc loc;
  /// Number: its value.
  double number = 0;
  /// String: its value, escapes resolved.
  std::string str;

  bool is(Tok t) const { return kind == t; }
  bool isKeyword(const char *kw) const {
    return kind == Tok::Keyword && text == kw;
  }
};

/// The words that start a declaration and cannot name a value.
const std::vector<std::string> &keywords();

/// Tokens of `text`, ending with one Eof token. Errors (unexpected
/// characters, unterminated strings, malformed numbers) go to `diags`.
std::vector<Token> lex(const std::string &file, const std::string &text,
                       DiagEngine &diags);

} // namespace nn
