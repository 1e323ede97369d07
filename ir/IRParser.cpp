//===- IRParser.cpp - Reading the IR text form ----------------------------===//
///
/// \file
/// Algorithm: a hand-written lexer (ir/IRLexer.h: identifiers, %labels,
/// numbers, strings, punctuation; `#` comments) feeds a recursive-descent
/// parser, one function per rule of the grammar below; each attribute is
/// read by its row of the attribute table (ir/Attributes.h). Labels map to
/// node ids as they are defined, so a use before its definition is an error
/// and the result is in topological order. The first error is reported and parsing stops.
///
///   file      := 'graph' name '{' stmt* '}'
///   stmt      := node | 'output' name '=' %label
///              | 'update' %label '<-' %label
///   node      := %label '=' op [string] [consts] [operands] [attrs]
///                ':' type [loc]
///   type      := '?' | dtype ['[' dim (',' dim)* ']']
///   attrs     := '{' attr (',' attr)* '}'
///   loc       := 'loc' '(' string ':' int ':' int ['-' int] ')'
///
//===----------------------------------------------------------------------===//

#include "ir/IRParser.h"
#include "ir/Attributes.h"
#include "ir/IRLexer.h"
#include "ir/IRText.h"

#include "ir/Support.h"
#include "ir/TensorLimits.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace nn {

namespace {

using irtext::Lexer;
using irtext::Tok;
using irtext::Token;

/// Thrown after the first error has been reported.
struct ParseFailed {};

class Parser : public AttrReader {
public:
  Parser(const std::string &file, const std::string &text, DiagEngine &diags)
      : file(file), lexer(text), diags(diags) {
    tok = lexer.next();
  }

  Graph parseFile();

  // AttrReader: what the attribute table's rows read with.
  int64_t readInt(int64_t lo, int64_t hi, const char *what) override {
    return parseInt(lo, hi, what);
  }
  std::vector<double> readValues() override { return parseValueList(); }
  double readNumber() override { return parseDouble(); }
  TensorType readType() override { return parseType(); }
  std::optional<std::string> takeWord() override {
    taken = take();
    if (taken.kind != Tok::Ident)
      return std::nullopt;
    return taken.text;
  }
  [[noreturn]] void failAtTaken(const std::string &msg) override {
    fail(taken, msg);
  }
  Init readInit() override { return parseInit(); }
  void readBody(std::vector<ExprStep> &body) override { parseBodyExpr(body); }

private:
  std::string file;
  Lexer lexer;
  DiagEngine &diags;
  Token tok;
  Token taken{}; // the token takeWord took
  Graph g;
  std::map<std::string, NodeId> labels;

  SrcLoc locOf(const Token &t) const { return {file, t.line, t.col, t.len}; }

  [[noreturn]] void fail(const Token &t, const std::string &msg) {
    diags.error(locOf(t), msg);
    throw ParseFailed();
  }
  [[noreturn]] void failHere(const std::string &msg) {
    if (tok.kind == Tok::Bad)
      fail(tok, tok.text);
    fail(tok, msg + ", found " + describe(tok));
  }
  static std::string describe(const Token &t) {
    switch (t.kind) {
    case Tok::End:
      return "end of file";
    case Tok::Label:
      return "'%" + t.text + "'";
    case Tok::String:
      return "a string";
    case Tok::Ident:
    case Tok::Number:
    case Tok::Punct:
    case Tok::Bad:
      return "'" + t.text + "'";
    }
    return "?";
  }

  Token take() {
    Token t = tok;
    tok = lexer.next();
    return t;
  }
  bool isPunct(const char *p) const {
    return tok.kind == Tok::Punct && tok.text == p;
  }
  bool isIdent(const char *w) const {
    return tok.kind == Tok::Ident && tok.text == w;
  }
  bool accept(const char *p) {
    if (!isPunct(p))
      return false;
    take();
    return true;
  }
  void expect(const char *p, const char *what) {
    if (!accept(p))
      failHere(std::string("expected '") + p + "' " + what);
  }

  std::string parseName(const char *what);
  NodeId parseUse();
  void parseNode();
  void parseOperands(Node &n, const Token &opTok);
  void parseConstValues(Node &n);
  std::vector<double> parseValueList();
  double parseDouble();
  int64_t parseInt(int64_t lo, int64_t hi, const char *what);
  void parseAttrs(Node &n, bool &hasNameAttr);
  Init parseInit();
  int parseBodyExpr(std::vector<ExprStep> &body);
  TensorType parseType();
  SrcLoc parseLoc();
};

Graph Parser::parseFile() {
  if (!isIdent("graph"))
    failHere("expected 'graph'");
  take();
  g.name = parseName("after 'graph'");
  expect("{", "to open the graph");
  while (!isPunct("}")) {
    if (tok.kind == Tok::Label) {
      parseNode();
    } else if (isIdent("output")) {
      take();
      std::string name = parseName("after 'output'");
      expect("=", "after the output name");
      g.outputs.push_back({name, parseUse()});
    } else if (isIdent("update")) {
      take();
      NodeId target = parseUse();
      expect("<-", "between the update's target and value");
      g.updates.push_back({target, parseUse()});
    } else {
      failHere("expected a node, 'output', 'update' or '}'");
    }
  }
  take();
  if (tok.kind != Tok::End)
    failHere("expected end of file after the graph");
  return std::move(g);
}

/// An identifier or a string.
std::string Parser::parseName(const char *what) {
  if (tok.kind != Tok::Ident && tok.kind != Tok::String)
    failHere(std::string("expected a name ") + what);
  return take().text;
}

NodeId Parser::parseUse() {
  if (tok.kind != Tok::Label)
    failHere("expected a value such as '%x'");
  Token t = take();
  auto it = labels.find(t.text);
  if (it == labels.end())
    fail(t, "use of undefined value '%" + t.text + "'");
  return it->second;
}

void Parser::parseNode() {
  Token labelTok = take();
  if (labels.count(labelTok.text))
    fail(labelTok, "redefinition of value '%" + labelTok.text + "'");
  expect("=", "after the value name");
  if (tok.kind != Tok::Ident)
    failHere("expected an op name");
  Token opTok = take();
  std::optional<OpKind> op = opFromMnemonic(opTok.text);
  if (!op) {
    std::vector<std::string> names;
    for (OpKind k : allOps())
      names.push_back(mnemonic(k));
    diags.error(locOf(opTok), "unknown op '" + opTok.text + "'");
    std::string near = closestMatch(opTok.text, names);
    if (!near.empty())
      diags.help({}, "did you mean '" + near + "'?");
    throw ParseFailed();
  }
  Node n = makeNode(*op, {});
  if (hasLeafName(*op)) {
    if (tok.kind != Tok::String)
      failHere(std::string("expected the ") + mnemonic(*op) +
               "'s name as a string");
    n.name = take().text;
  } else if (*op == OpKind::Const) {
    parseConstValues(n);
  } else {
    parseOperands(n, opTok);
  }
  bool hasNameAttr = false;
  if (isPunct("{"))
    parseAttrs(n, hasNameAttr);
  if (!hasLeafName(*op) && !hasNameAttr &&
      isIRIdentifier(labelTok.text))
    n.name = labelTok.text;
  expect(":", "before the type");
  n.type = parseType();
  if (isIdent("loc"))
    n.loc = parseLoc();
  labels[labelTok.text] = g.size();
  g.nodes.push_back(std::move(n));
}

void Parser::parseOperands(Node &n, const Token &opTok) {
  int arity = opInfo(n.op).arity;
  if (tok.kind == Tok::Label) {
    n.inputs.push_back(parseUse());
    while (accept(","))
      n.inputs.push_back(parseUse());
  }
  if (arity < 0 && n.inputs.empty())
    fail(opTok, std::string("'") + mnemonic(n.op) +
                    "' takes one or more operands, got 0");
  if (arity >= 0 && static_cast<int>(n.inputs.size()) != arity)
    fail(opTok, std::string("'") + mnemonic(n.op) + "' takes " +
                    std::to_string(arity) +
                    (arity == 1 ? " operand, got " : " operands, got ") +
                    std::to_string(n.inputs.size()));
}

void Parser::parseConstValues(Node &n) {
  if (isPunct("["))
    n.values = parseValueList();
  else
    n.values = {parseDouble()};
}

std::vector<double> Parser::parseValueList() {
  expect("[", "to open the list of values");
  std::vector<double> vs;
  if (accept("]"))
    return vs;
  do
    vs.push_back(parseDouble());
  while (accept(","));
  expect("]", "to close the list of values");
  return vs;
}

/// A number: `-`? digits... or `inf` / `nan`.
double Parser::parseDouble() {
  bool negative = accept("-");
  if (tok.kind == Tok::Ident && (tok.text == "inf" || tok.text == "nan")) {
    double v = tok.text == "inf" ? std::numeric_limits<double>::infinity()
                                 : std::numeric_limits<double>::quiet_NaN();
    take();
    return negative ? -v : v;
  }
  if (tok.kind != Tok::Number)
    failHere("expected a number");
  double v = 0;
  const std::string &s = tok.text;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range)
    fail(tok, "number '" + s + "' is out of range");
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    fail(tok, "malformed number '" + s + "'");
  take();
  return negative ? -v : v;
}

int64_t Parser::parseInt(int64_t lo, int64_t hi, const char *what) {
  Token first = tok;
  bool negative = accept("-");
  if (tok.kind != Tok::Number)
    failHere(std::string("expected ") + what);
  int64_t v = 0;
  const std::string &s = tok.text;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    fail(tok, std::string("expected ") + what + ", found '" + s + "'");
  take();
  if (negative)
    v = -v;
  if (v < lo || v > hi)
  {
    std::string noun = what;
    for (const char *article : {"a ", "an "})
      if (noun.rfind(article, 0) == 0)
        noun = noun.substr(std::string(article).size());
    fail(first, noun + " " + std::to_string(v) + " is out of range");
  }
  return v;
}

void Parser::parseAttrs(Node &n, bool &hasNameAttr) {
  expect("{", "to open the attributes");
  std::vector<std::string> seen;
  do {
    if (tok.kind != Tok::Ident)
      failHere("expected an attribute name");
    Token key = take();
    for (const std::string &s : seen)
      if (s == key.text)
        fail(key, "duplicate attribute '" + key.text + "'");
    seen.push_back(key.text);
    const AttrSpec *attr = findAttribute(key.text);
    if (!attr || !attr->flag)
      expect("=", "after the attribute name");
    if (key.text == "name") {
      if (tok.kind != Tok::String)
        failHere("expected the name as a string");
      n.name = take().text;
      hasNameAttr = true;
      continue;
    }
    if (!attr)
      fail(key, "unknown attribute '" + key.text + "'");
    // A row that checks its value itself throws a UserError: report it at
    // the value's first token.
    Token value = tok;
    try {
      attr->parse(*this, n);
    } catch (const UserError &e) {
      std::string msg = e.what();
      fail(value, msg.rfind("error: ", 0) == 0 ? msg.substr(7) : msg);
    }
  } while (accept(","));
  expect("}", "to close the attributes");
}

/// A fused.elementwise body expression: a number, an operand `%k`, or
/// `op(expr, ...)` with an elementwise op. Appends its steps in post-order
/// and returns the reference to its value (see ExprStep).
int Parser::parseBodyExpr(std::vector<ExprStep> &body) {
  if (tok.kind == Tok::Label) {
    Token t = take();
    int64_t k = -1;
    auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), k);
    if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size() ||
        k > 1000000)
      fail(t, "expected an operand number such as '%0' in the body");
    return static_cast<int>(k);
  }
  bool number = tok.kind == Tok::Number || isPunct("-") ||
                isIdent("inf") || isIdent("nan");
  if (number) {
    ExprStep c;
    c.value = parseDouble();
    body.push_back(c);
    return -static_cast<int>(body.size());
  }
  if (tok.kind != Tok::Ident)
    failHere("expected an expression in the body");
  Token opTok = take();
  std::optional<OpKind> op = opFromMnemonic(opTok.text);
  if (!op || !hasTrait(*op, kElementwise))
    fail(opTok, "'" + opTok.text + "' is not an elementwise op");
  ExprStep s;
  s.op = *op;
  expect("(", "after the op name in the body");
  do {
    if (hasSlope(*op) && isIdent("slope")) { // leaky_relu(%0, slope = 0.2)
      take();
      expect("=", "after 'slope'");
      s.value = parseDouble();
      break;
    }
    s.args.push_back(parseBodyExpr(body));
  } while (accept(","));
  expect(")", "to close the op's arguments");
  if (static_cast<int>(s.args.size()) != opInfo(*op).arity)
    fail(opTok, "'" + opTok.text + "' takes " +
                    std::to_string(opInfo(*op).arity) + " arguments, got " +
                    std::to_string(s.args.size()));
  body.push_back(std::move(s));
  return -static_cast<int>(body.size());
}

Init Parser::parseInit() {
  if (tok.kind != Tok::Ident)
    failHere("expected an initializer");
  Token k = take();
  Init init;
  bool found = false;
  for (InitKind kind : {InitKind::Zeros, InitKind::Constant, InitKind::Values,
                        InitKind::Uniform, InitKind::Normal, InitKind::Xavier,
                        InitKind::He})
    if (k.text == initName(kind)) {
      init.kind = kind;
      found = true;
    }
  if (!found)
    fail(k, "unknown initializer '" + k.text + "'");
  if (!accept("("))
    return init;
  init.a = parseDouble();
  if (accept(","))
    init.b = parseDouble();
  expect(")", "to close the initializer's arguments");
  return init;
}

TensorType Parser::parseType() {
  if (accept("?"))
    return TensorType{};
  if (tok.kind != Tok::Ident || (tok.text != "f32" && tok.text != "i32"))
    failHere("expected a type such as 'f32[N,784]' or '?'");
  TensorType t;
  t.known = true;
  Token typeTok = tok;
  t.dtype = take().text == "f32" ? DType::F32 : DType::I32;
  if (!accept("["))
    return t;
  if (accept("]"))
    return t;
  do {
    if (isIdent("N")) {
      take();
      t.dims.push_back(kBatch);
    } else {
      t.dims.push_back(parseInt(0, std::numeric_limits<int64_t>::max(),
                                "a dimension"));
    }
  } while (accept(","));
  expect("]", "to close the dimensions");
  if (std::string big = tensorSizeError(t.dims); !big.empty())
    fail(typeTok, big);
  return t;
}

SrcLoc Parser::parseLoc() {
  take(); // loc
  expect("(", "after 'loc'");
  if (tok.kind != Tok::String)
    failHere("expected the file name as a string");
  SrcLoc l;
  l.file = take().text;
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  expect(":", "after the file name");
  l.line = static_cast<int>(parseInt(-kMax, kMax, "a line number"));
  expect(":", "after the line number");
  l.col = static_cast<int>(parseInt(-kMax, kMax, "a column number"));
  if (accept("-")) {
    Token endTok = tok;
    int64_t end = parseInt(-kMax, kMax, "an end column");
    int64_t len = end - l.col + 1;
    if (len < -kMax || len > kMax)
      fail(endTok, "end column is out of range");
    l.len = static_cast<int>(len);
  }
  expect(")", "to close the location");
  return l;
}

} // namespace

Graph parseGraph(const std::string &file, const std::string &text,
                 DiagEngine &diags) {
  diags.addSource(file, text);
  try {
    return Parser(file, text, diags).parseFile();
  } catch (const ParseFailed &) {
    throw DiagnosedError();
  }
}

} // namespace nn
