//===- Lexer.cpp - Tokens of the .nn language -----------------------------===//
///
/// \file
/// A hand-written, single-pass lexer with 1-based line and column tracking.
///
//===----------------------------------------------------------------------===//

#include "frontend/Lexer.h"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace nn {

const char *tokName(Tok t) {
  switch (t) {
  case Tok::Ident:
    return "identifier";
  case Tok::Keyword:
    return "keyword";
  case Tok::Number:
    return "number";
  case Tok::String:
    return "string";
  case Tok::LParen:
    return "l_paren";
  case Tok::RParen:
    return "r_paren";
  case Tok::LSquare:
    return "l_square";
  case Tok::RSquare:
    return "r_square";
  case Tok::LBrace:
    return "l_brace";
  case Tok::RBrace:
    return "r_brace";
  case Tok::Colon:
    return "colon";
  case Tok::Comma:
    return "comma";
  case Tok::Equal:
    return "equal";
  case Tok::At:
    return "at";
  case Tok::Plus:
    return "plus";
  case Tok::Minus:
    return "minus";
  case Tok::Star:
    return "star";
  case Tok::Slash:
    return "slash";
  case Tok::Newline:
    return "newline";
  case Tok::Eof:
    return "eof";
  case Tok::Invalid:
    return "invalid";
  }
  return "?";
}

const std::vector<std::string> &keywords() {
  static const std::vector<std::string> kws = {"model", "input", "label",
                                               "param", "loss",  "train"};
  return kws;
}

namespace {

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }

/// The longest line the lexer reads (bytes); longer text is an error, and
/// lexing stops there (an explicit limit, found by fuzzing).
constexpr size_t kMaxLineLength = 65536;

class Lexer {
public:
  Lexer(const std::string &file, const std::string &text, DiagEngine &diags)
      : file(file), text(text), diags(diags) {}

  std::vector<Token> run() {
    // A UTF-8 byte order mark (editors on Windows write one) is no text;
    // columns count from after it.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
      pos = lineStart = 3;
    while (pos < text.size()) {
      if (pos - lineStart > kMaxLineLength && line != longLine) {
        longLine = line;
        size_t end = text.find('\n', lineStart);
        size_t len = (end == std::string::npos ? text.size() : end) - lineStart;
        diags.error(locAt(lineStart + kMaxLineLength, 1),
                    "line is too long (" + std::to_string(len) +
                        " bytes; at most " + std::to_string(kMaxLineLength) +
                        ")");
        // An Invalid token keeps the parser quiet about this line; lexing
        // goes on at the next one.
        push(Tok::Invalid, lineStart + kMaxLineLength, 1);
        pos = end == std::string::npos ? text.size() : end;
        continue;
      }
      lexOne();
    }
    Token eof = make(Tok::Eof, pos, 1);
    eof.text = "";
    toks.push_back(eof);
    return std::move(toks);
  }

private:
  int longLine = 0; // the last line reported too long

  char peek(size_t ahead = 0) const {
    return pos + ahead < text.size() ? text[pos + ahead] : '\0';
  }

  SrcLoc locAt(size_t start, size_t len) const {
    return {file, line, static_cast<int>(start - lineStart) + 1,
            static_cast<int>(len == 0 ? 1 : len)};
  }

  Token make(Tok kind, size_t start, size_t len) {
    Token t;
    t.kind = kind;
    t.text = text.substr(start, len);
    t.loc = locAt(start, len);
    return t;
  }

  void push(Tok kind, size_t start, size_t len) {
    toks.push_back(make(kind, start, len));
  }

  /// The token of a one-character punctuator, or Tok::Invalid.
  static Tok punctuation(char c) {
    static constexpr std::pair<char, Tok> kPunct[] = {
        {'(', Tok::LParen},  {')', Tok::RParen}, {'[', Tok::LSquare},
        {']', Tok::RSquare}, {'{', Tok::LBrace}, {'}', Tok::RBrace},
        {':', Tok::Colon},   {',', Tok::Comma},  {'=', Tok::Equal},
        {'@', Tok::At},      {'+', Tok::Plus},   {'-', Tok::Minus},
        {'*', Tok::Star},    {'/', Tok::Slash}};
    for (auto [ch, tok] : kPunct)
      if (ch == c)
        return tok;
    return Tok::Invalid;
  }

  void lexOne() {
    char c = peek();
    size_t start = pos;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++pos;
      return;
    }
    if (c == '#') {
      while (pos < text.size() && text[pos] != '\n')
        ++pos;
      return;
    }
    if (c == '\n') {
      // One Newline token per run of line ends, none before the first token.
      if (!toks.empty() && !toks.back().is(Tok::Newline)) {
        Token t = make(Tok::Newline, start, 1);
        t.text = "\n";
        toks.push_back(t);
      }
      ++pos;
      ++line;
      lineStart = pos;
      return;
    }
    if (isIdentStart(c)) {
      while (isIdentChar(peek()))
        ++pos;
      std::string word = text.substr(start, pos - start);
      bool kw = false;
      for (const std::string &k : keywords())
        kw |= k == word;
      push(kw ? Tok::Keyword : Tok::Ident, start, pos - start);
      return;
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
      lexNumber();
      return;
    }
    if (c == '"') {
      lexString();
      return;
    }
    Tok kind = punctuation(c);
    if (kind != Tok::Invalid) {
      ++pos;
      push(kind, start, 1);
      return;
    }
    // An unexpected character; a UTF-8 sequence counts as one.
    ++pos;
    if (static_cast<unsigned char>(c) >= 0xC0)
      while ((static_cast<unsigned char>(peek()) & 0xC0) == 0x80)
        ++pos;
    std::string shown = text.substr(start, pos - start);
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(c));
      shown = buf;
    }
    diags.error(locAt(start, 1), "unexpected character '" + shown + "'");
    push(Tok::Invalid, start, pos - start);
    toks.back().loc.len = 1;
  }

  void lexNumber() {
    size_t start = pos;
    while (isDigit(peek()))
      ++pos;
    if (peek() == '.') {
      ++pos;
      while (isDigit(peek()))
        ++pos;
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (isDigit(peek(1)) ||
         ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
      pos += 2;
      while (isDigit(peek()))
        ++pos;
    }
    // Letters glued to a number ("128x", "1e") make it malformed.
    bool bad = false;
    while (isIdentChar(peek()) || peek() == '.') {
      bad = true;
      ++pos;
    }
    Token t = make(Tok::Number, start, pos - start);
    if (!bad) {
      const char *b = text.data() + start, *e = text.data() + pos;
      auto [ptr, ec] = std::from_chars(b, e, t.number);
      if (ec == std::errc::result_out_of_range && ptr == e) {
        diags.error(t.loc, "number '" + t.text + "' is out of range");
        t.kind = Tok::Invalid;
        toks.push_back(t);
        return;
      }
      bad = ec != std::errc() || ptr != e;
    }
    if (bad) {
      diags.error(t.loc, "invalid number '" + t.text + "'");
      t.kind = Tok::Invalid;
    }
    toks.push_back(t);
  }

  void lexString() {
    size_t start = pos++;
    std::string value;
    while (pos < text.size() && text[pos] != '"' && text[pos] != '\n') {
      char c = text[pos++];
      if (c == '\\' && pos < text.size() && text[pos] != '\n') {
        char e = text[pos++];
        switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        default: // \" \\ and anything else: the character itself
          value += e;
          break;
        }
        continue;
      }
      value += c;
    }
    if (pos >= text.size() || text[pos] != '"') {
      size_t end = pos;
      while (end > start + 1 && (text[end - 1] == '\r'))
        --end;
      Token t = make(Tok::Invalid, start, end - start);
      diags.error(locAt(start, 1), "unterminated string");
      toks.push_back(t);
      return;
    }
    ++pos;
    Token t = make(Tok::String, start, pos - start);
    t.str = std::move(value);
    toks.push_back(t);
  }

  const std::string &file;
  const std::string &text;
  DiagEngine &diags;
  std::vector<Token> toks;
  size_t pos = 0;
  size_t lineStart = 0;
  int line = 1;
};

} // namespace

std::vector<Token> lex(const std::string &file, const std::string &text,
                       DiagEngine &diags) {
  return Lexer(file, text, diags).run();
}

} // namespace nn
