//===- Parser.cpp - Tokens to syntax tree ---------------------------------===//
///
/// \file
/// Grammar (NL = newline; newlines are allowed after `(`, `[`, `,` and a
/// binary operator, and before a closing `)` or `]`):
///
///   program := (stmt NL)* EOF
///   stmt    := 'model' IDENT | 'input' IDENT ':' type | 'label' IDENT ':' type
///            | 'param' IDENT ':' type ('=' expr)? | 'loss' expr
///            | 'train' '{' (item | NL)* '}' | IDENT '=' expr
///   type    := IDENT ('(' args ')')? ('[' expr (',' expr)* ']')?
///   item    := IDENT ('(' args ')' | expr)?
///   expr    := term (('+' | '-') term)*
///   term    := unary (('*' | '/' | '@') unary)*
///   unary   := '-' unary | primary
///   primary := NUMBER | STRING | IDENT | IDENT '(' args ')' | '(' expr ')'
///            | '[' (expr (',' expr)* ','?)? ']'
///   args    := (arg (',' arg)* ','?)?      arg := IDENT '=' expr | expr
///
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"
#include "frontend/Suggest.h"

#include <algorithm>

namespace nn {

namespace {

/// Thrown to abandon a statement once its error has been reported.
struct ParseFailure {};

/// Explicit limits (found by fuzzing: deeper nesting overflowed the stack in
/// the parser, the lowering and the syntax tree's destructor). An
/// expression's syntax tree is at most about kMaxNesting deep: each
/// parenthesis, call, list, unary minus and binary operator counts a level.
constexpr int kMaxNesting = 256;
/// Statements per file (layers, declarations, assignments).
constexpr size_t kMaxStatements = 10000;

class Parser {
public:
  Parser(const std::vector<Token> &toks, DiagEngine &diags)
      : toks(toks), diags(diags) {}

  Program run() {
    Program prog;
    skipNewlines();
    while (!cur().is(Tok::Eof)) {
      size_t before = prog.stmts.size();
      if (before >= kMaxStatements) {
        if (!lineHasInvalid())
          diags.error(errorLoc(cur()),
                      "too many statements (at most " +
                          std::to_string(kMaxStatements) + " in a file)");
        prog.truncated = true;
        break;
      }
      try {
        parseStatement(prog);
        if (!cur().is(Tok::Newline) && !cur().is(Tok::Eof))
          fail(cur(), "expected end of line after statement");
      } catch (ParseFailure &) {
        if (prog.stmts.size() > before)
          prog.stmts.back().broken = true;
        skipStatement();
      }
      skipNewlines();
    }
    return prog;
  }

private:
  /// Counts nesting levels until it goes out of scope; fails past
  /// kMaxNesting.
  class Nest {
  public:
    explicit Nest(Parser &p) : p(p) {}
    ~Nest() { p.nesting -= levels; }
    Nest(const Nest &) = delete;
    Nest &operator=(const Nest &) = delete;
    void more(const Token &at) {
      ++p.nesting;
      ++levels;
      if (p.nesting > kMaxNesting)
        p.fail(at, "expression is nested too deeply (more than " +
                       std::to_string(kMaxNesting) +
                       " levels); split it into named steps");
    }

  private:
    Parser &p;
    int levels = 0;
  };

  const Token &cur() const { return toks[pos]; }
  const Token &peekTok(size_t n = 1) const {
    return toks[std::min(pos + n, toks.size() - 1)];
  }
  const Token &next() {
    const Token &t = toks[pos];
    if (pos + 1 < toks.size())
      ++pos;
    return t;
  }
  bool accept(Tok k) {
    if (!cur().is(k))
      return false;
    next();
    return true;
  }
  void skipNewlines() {
    while (cur().is(Tok::Newline))
      next();
  }

  /// Where an error about `t` points: the token itself, or for a newline or
  /// the end of the file, just past the previous token.
  SrcLoc errorLoc(const Token &t) const {
    if ((t.is(Tok::Newline) || t.is(Tok::Eof)) && &t == &toks[pos]) {
      size_t i = pos;
      while (i > 0 && toks[i - 1].is(Tok::Newline))
        --i;
      if (i > 0) {
        SrcLoc l = toks[i - 1].loc;
        l.col += l.len;
        l.len = 1;
        return l;
      }
    }
    SrcLoc l = t.loc;
    if (t.is(Tok::Newline) || t.is(Tok::Eof))
      l.len = 1;
    return l;
  }

  /// Reports `msg` at `t` (unless `t` is a token the lexer already reported)
  /// and abandons the statement.
  [[noreturn]] void fail(const Token &t, const std::string &msg) {
    if (!lineHasInvalid())
      diags.error(errorLoc(t), msg);
    throw ParseFailure();
  }

  /// Whether the line of the current token holds a token the lexer reported:
  /// then a syntax error there is most likely a consequence of it (a string
  /// left open swallows the closing parenthesis), so it is not reported.
  bool lineHasInvalid() const {
    size_t begin = pos, end = pos;
    while (begin > 0 && !toks[begin - 1].is(Tok::Newline))
      --begin;
    while (end + 1 < toks.size() && !toks[end].is(Tok::Newline))
      ++end;
    for (size_t i = begin; i <= end; ++i)
      if (toks[i].is(Tok::Invalid))
        return true;
    return false;
  }

  const Token &expect(Tok k, const std::string &msg) {
    if (!cur().is(k))
      fail(cur(), msg);
    return next();
  }

  /// Skips the rest of a bad statement: to the next newline outside braces.
  void skipStatement() {
    int depth = 0;
    while (!cur().is(Tok::Eof)) {
      if (cur().is(Tok::Newline) && depth <= 0)
        return;
      if (cur().is(Tok::LBrace))
        ++depth;
      if (cur().is(Tok::RBrace))
        --depth;
      next();
    }
  }

  void parseStatement(Program &prog) {
    const Token &t = cur();
    if (t.is(Tok::Keyword)) {
      if (t.text == "train")
        return parseTrain(prog);
      Stmt::Kind kind = t.text == "model"   ? Stmt::Kind::Model
                        : t.text == "input" ? Stmt::Kind::Input
                        : t.text == "label" ? Stmt::Kind::Label
                        : t.text == "param" ? Stmt::Kind::Param
                                            : Stmt::Kind::Loss;
      prog.stmts.emplace_back(kind, next().loc);
      Stmt &s = prog.stmts.back();
      if (kind == Stmt::Kind::Loss) {
        if (cur().is(Tok::Equal))
          fail(cur(), "unexpected '=' after 'loss': write 'loss bce(p, y)'");
        s.value = parseExpr();
        return;
      }
      const Token &name = expect(
          Tok::Ident, std::string("expected a name after '") + t.text + "'");
      s.name = name.text;
      s.nameLoc = name.loc;
      if (kind == Stmt::Kind::Model)
        return;
      expect(Tok::Colon, "expected ':' and a type after '" + s.name + "'");
      s.type = parseType();
      if (kind == Stmt::Kind::Param && accept(Tok::Equal))
        s.value = parseExpr();
      return;
    }
    if (t.is(Tok::Ident) && peekTok().is(Tok::Equal)) {
      prog.stmts.emplace_back(Stmt::Kind::Bind, t.loc);
      Stmt &s = prog.stmts.back();
      s.name = t.text;
      s.nameLoc = t.loc;
      next();
      next();
      s.value = parseExpr();
      return;
    }
    if (t.is(Tok::Ident))
      unknownStatement(prog);
    fail(t, "expected a declaration or 'name = expression'");
  }

  [[noreturn]] void unknownStatement(Program &prog) {
    const Token &t = cur();
    diags.error(t.loc, "unknown statement '" + t.text + "'");
    std::string guess = suggest(t.text, keywords());
    if (!guess.empty())
      diags.help(t.loc, "did you mean '" + guess + "'?");
    else if (peekTok().is(Tok::Colon))
      diags.help(t.loc, "declare it with 'input " + t.text +
                            " : ...', 'param " + t.text + " : ...' or 'label " +
                            t.text + " : ...'");
    else
      diags.help(t.loc, "a statement is a declaration (model, input, label, "
                        "param, loss, train) or 'name = expression'");
    // `inptu x : f32[2]`: poison `x` so its uses are not reported again.
    if (peekTok().is(Tok::Ident)) {
      prog.stmts.emplace_back(Stmt::Kind::Bind, peekTok().loc);
      prog.stmts.back().name = peekTok().text;
      prog.stmts.back().nameLoc = peekTok().loc;
    }
    throw ParseFailure();
  }

  TypeSpec parseType() {
    TypeSpec ty;
    const Token &name = expect(Tok::Ident, "expected a type such as 'f32[10]'");
    ty.name = name.text;
    ty.loc = name.loc;
    if (accept(Tok::LParen))
      ty.args = parseArgs(nullptr);
    if (accept(Tok::LSquare)) {
      ty.hasDims = true;
      skipNewlines();
      while (!cur().is(Tok::RSquare)) {
        ty.dims.push_back(parseExpr());
        if (!acceptComma())
          break;
      }
      closeWith(Tok::RSquare, "expected ',' or ']' in the shape");
    }
    return ty;
  }

  /// A comma, and any newlines after it.
  bool acceptComma() {
    if (!accept(Tok::Comma))
      return false;
    skipContinuation();
    return true;
  }

  /// Newlines inside an unfinished expression, unless the next line starts
  /// a statement (a keyword, or after an operator `name =`): then the error
  /// is "expected ..." at the end of this line, and the next statement is
  /// parsed normally.
  void skipContinuation(bool afterOperator = false) {
    size_t save = pos;
    skipNewlines();
    bool binding = cur().is(Tok::Ident) && peekTok().is(Tok::Equal);
    if (pos != save && (cur().is(Tok::Keyword) || (afterOperator && binding)))
      pos = save;
  }

  /// The closing bracket `k`, possibly on a later line.
  void closeWith(Tok k, const std::string &msg) {
    size_t save = pos;
    skipNewlines();
    if (cur().is(k)) {
      next();
      return;
    }
    pos = save;
    fail(cur(), msg);
  }

  /// After `(`: positional and keyword arguments up to `)`. Positional
  /// arguments come first, but for `lateActivation` calls (conv2d), whose
  /// activation is written last: `conv2d(x, 32, kernel = 3, relu)`.
  std::vector<ExprPtr> parseArgs(std::vector<KwArg> *kwargs,
                                 bool lateActivation = false) {
    std::vector<ExprPtr> args;
    skipNewlines();
    while (!cur().is(Tok::RParen)) {
      bool word = cur().is(Tok::Ident) || cur().is(Tok::Keyword);
      if (word && peekTok().is(Tok::Equal) && kwargs) {
        KwArg k;
        k.name = cur().text;
        k.loc = next().loc;
        next();
        k.value = parseExpr();
        // A keyword given twice is an error at the second, with a note at
        // the first (calls look keywords up by name: one would be ignored).
        for (const KwArg &prev : *kwargs)
          if (prev.name == k.name) {
            diags.error(k.loc, "argument '" + k.name + "' is given twice");
            diags.note(prev.loc, "first given here");
            break;
          }
        kwargs->push_back(std::move(k));
      } else {
        if (kwargs && !kwargs->empty() && !lateActivation)
          fail(cur(), "positional argument after a keyword argument");
        args.push_back(parseExpr());
      }
      if (!acceptComma())
        break;
    }
    closeWith(Tok::RParen, "expected ',' or ')' in the argument list");
    return args;
  }

  ExprPtr parseExpr() {
    Nest nest(*this);
    ExprPtr lhs = parseTerm();
    while (cur().is(Tok::Plus) || cur().is(Tok::Minus)) {
      nest.more(cur());
      lhs = binary(std::move(lhs), &Parser::parseTerm);
    }
    return lhs;
  }

  ExprPtr parseTerm() {
    Nest nest(*this);
    ExprPtr lhs = parseUnary();
    while (cur().is(Tok::Star) || cur().is(Tok::Slash) || cur().is(Tok::At)) {
      nest.more(cur());
      lhs = binary(std::move(lhs), &Parser::parseUnary);
    }
    return lhs;
  }

  ExprPtr binary(ExprPtr lhs, ExprPtr (Parser::*operand)()) {
    const Token &op = next();
    auto e = std::make_unique<Expr>(Expr::Kind::Binary, op.loc);
    e->op = op.text[0];
    skipContinuation(/*afterOperator=*/true);
    e->args.push_back(std::move(lhs));
    e->args.push_back((this->*operand)());
    return e;
  }

  ExprPtr parseUnary() {
    if (cur().is(Tok::Minus)) {
      Nest nest(*this);
      nest.more(cur());
      auto e = std::make_unique<Expr>(Expr::Kind::Unary, next().loc);
      e->op = '-';
      e->args.push_back(parseUnary());
      return e;
    }
    return parsePrimary();
  }

  ExprPtr parsePrimary() {
    const Token &t = cur();
    Nest nest(*this);
    if (t.is(Tok::Ident) || t.is(Tok::LParen) || t.is(Tok::LSquare))
      nest.more(t);
    switch (t.kind) {
    case Tok::Number: {
      auto e = std::make_unique<Expr>(Expr::Kind::Number, t.loc);
      e->number = t.number;
      e->text = t.text;
      next();
      return e;
    }
    case Tok::String: {
      auto e = std::make_unique<Expr>(Expr::Kind::String, t.loc);
      e->text = t.str;
      next();
      return e;
    }
    case Tok::Ident: {
      next();
      if (cur().is(Tok::LParen)) {
        next();
        auto e = std::make_unique<Expr>(Expr::Kind::Call, t.loc);
        e->text = t.text;
        e->args = parseArgs(&e->kwargs, t.text == "conv2d");
        return e;
      }
      auto e = std::make_unique<Expr>(Expr::Kind::Name, t.loc);
      e->text = t.text;
      return e;
    }
    case Tok::LParen: {
      next();
      skipNewlines();
      ExprPtr e = parseExpr();
      closeWith(Tok::RParen, "expected ')'");
      return e;
    }
    case Tok::LSquare: {
      const Token &open = next();
      auto e = std::make_unique<Expr>(Expr::Kind::List, open.loc);
      skipNewlines();
      while (!cur().is(Tok::RSquare)) {
        e->args.push_back(parseExpr());
        if (!acceptComma())
          break;
      }
      closeWith(Tok::RSquare, "expected ',' or ']' in the list");
      const Token &close = toks[pos - 1];
      if (close.loc.line == open.loc.line)
        e->loc.len = close.loc.col - open.loc.col + 1;
      return e;
    }
    case Tok::Keyword:
      fail(t, "'" + t.text + "' is a keyword and cannot be used here");
    default:
      break;
    }
    fail(t, "expected an expression");
  }

  void parseTrain(Program &prog) {
    prog.stmts.emplace_back(Stmt::Kind::Train, next().loc);
    Stmt &s = prog.stmts.back();
    skipNewlines();
    const Token &open = expect(Tok::LBrace, "expected '{' after 'train'");
    for (;;) {
      skipNewlines();
      if (accept(Tok::RBrace))
        return;
      if (cur().is(Tok::Eof)) {
        // After an error inside, the missing '}' is most likely part of
        // that error (swallowed by an unterminated string, say).
        if (!s.broken) {
          diags.error(errorLoc(cur()),
                      "expected '}' at the end of the train block");
          diags.note(open.loc, "the train block opens here");
        }
        throw ParseFailure();
      }
      try {
        parseItem(s);
        if (!cur().is(Tok::Newline) && !cur().is(Tok::RBrace) &&
            !cur().is(Tok::Ident) && !cur().is(Tok::Eof))
          fail(cur(), "expected a newline or '}' after the train setting");
      } catch (ParseFailure &) {
        s.broken = true;
        while (!cur().is(Tok::Newline) && !cur().is(Tok::RBrace) &&
               !cur().is(Tok::Eof))
          next();
      }
    }
  }

  /// A setting's name: `early_stop  l2 0` is two items, not one.
  static bool isSetting(const Token &t) {
    const std::vector<std::string> &names = trainSettings();
    return t.is(Tok::Ident) &&
           std::find(names.begin(), names.end(), t.text) != names.end();
  }

  void parseItem(Stmt &s) {
    const Token &key = cur();
    if (!key.is(Tok::Ident) && !key.is(Tok::Keyword))
      fail(key, "expected a train setting such as 'epochs 10'");
    TrainItem item;
    item.key = key.text;
    item.loc = key.loc;
    next();
    if (cur().is(Tok::LParen)) {
      next();
      item.value = std::make_unique<Expr>(Expr::Kind::Call, key.loc);
      item.value->text = key.text;
      item.value->args = parseArgs(&item.value->kwargs);
    } else if (!cur().is(Tok::Newline) && !cur().is(Tok::RBrace) &&
               !cur().is(Tok::Eof) && !isSetting(cur())) {
      item.value = parseExpr();
    }
    s.items.push_back(std::move(item));
  }

  const std::vector<Token> &toks;
  DiagEngine &diags;
  size_t pos = 0;
  int nesting = 0; // levels of the expression being parsed (see Nest)
};

} // namespace

Program parse(const std::vector<Token> &tokens, DiagEngine &diags) {
  return Parser(tokens, diags).run();
}

} // namespace nn
