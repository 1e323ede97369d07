//===- IRLexer.cpp - Tokens of the IR text form ---------------------------===//
///
/// \file
/// Algorithm: one pass over the text; each token is the longest run its
/// first character starts (an identifier, a %label, a number with an
/// exponent sign, a string with escapes) or one punctuation character.
///
//===----------------------------------------------------------------------===//

#include "ir/IRLexer.h"

#include <cctype>
#include <string_view>

namespace nn::irtext {

namespace {

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool isNumberChar(char c, char prev) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         ((c == '-' || c == '+') && (prev == 'e' || prev == 'E'));
}
std::string hex(unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  return {kHex[c >> 4], kHex[c & 15]};
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

Token Lexer::next() {
  skipSpace();
  int l = line, c = col;
  size_t start = pos;
  auto tok = [&](Tok k, std::string s) {
    return Token{k, std::move(s), l, c, static_cast<int>(pos - start)};
  };
  if (pos >= text.size())
    return Token{Tok::End, "", l, c, 1};
  char ch = text[pos];
  if (isIdentStart(ch)) {
    while (pos < text.size() && isIdentChar(text[pos]))
      advance();
    return tok(Tok::Ident, text.substr(start, pos - start));
  }
  if (ch == '%') {
    advance();
    while (pos < text.size() && isIdentChar(text[pos]))
      advance();
    if (pos == start + 1)
      return tok(Tok::Bad, "expected a value name after '%'");
    return tok(Tok::Label, text.substr(start + 1, pos - start - 1));
  }
  if (std::isdigit(static_cast<unsigned char>(ch))) {
    advance(); // the first digit; then text[pos - 1] exists
    while (pos < text.size() && isNumberChar(text[pos], text[pos - 1]))
      advance();
    return tok(Tok::Number, text.substr(start, pos - start));
  }
  if (ch == '"')
    return lexString(l, c);
  if (ch == '<' && pos + 1 < text.size() && text[pos + 1] == '-') {
    advance();
    advance();
    return tok(Tok::Punct, "<-");
  }
  if (std::string_view("=:,[]{}()?-").find(ch) != std::string_view::npos) {
    advance();
    return tok(Tok::Punct, std::string(1, ch));
  }
  advance();
  std::string shown = std::isprint(static_cast<unsigned char>(ch))
                          ? std::string(1, ch)
                          : "\\x" + hex(static_cast<unsigned char>(ch));
  return tok(Tok::Bad, "unexpected character '" + shown + "'");
}

void Lexer::advance() {
  if (text[pos] == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++pos;
}

void Lexer::skipSpace() {
  while (pos < text.size()) {
    char c = text[pos];
    if (c == '#') {
      while (pos < text.size() && text[pos] != '\n')
        advance();
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance();
    } else {
      return;
    }
  }
}

Token Lexer::lexString(int l, int c) {
  size_t start = pos;
  advance(); // the opening quote
  std::string s;
  auto bad = [&](std::string msg) {
    return Token{Tok::Bad, std::move(msg), l, c, static_cast<int>(pos - start)};
  };
  while (true) {
    if (pos >= text.size() || text[pos] == '\n')
      return bad("missing terminating '\"' character");
    char ch = text[pos];
    advance();
    if (ch == '"')
      break;
    if (ch != '\\') {
      s += ch;
      continue;
    }
    if (pos >= text.size())
      return bad("missing terminating '\"' character");
    char e = text[pos];
    advance();
    if (e == '"' || e == '\\') {
      s += e;
    } else if (e == 'n') {
      s += '\n';
    } else if (e == 't') {
      s += '\t';
    } else if (e == 'x' && pos + 1 < text.size() && hexDigit(text[pos]) >= 0 &&
               hexDigit(text[pos + 1]) >= 0) {
      s +=
          static_cast<char>(hexDigit(text[pos]) * 16 + hexDigit(text[pos + 1]));
      advance();
      advance();
    } else {
      return bad("unknown escape sequence in string");
    }
  }
  return Token{Tok::String, s, l, c, static_cast<int>(pos - start)};
}

} // namespace nn::irtext
