//===- Ast.h - The syntax tree of a .nn file -------------------*- C++ -*-===//
///
/// \file
/// What the parser builds: a list of statements, each holding expressions.
/// The tree knows nothing of ops or shapes; lowering (Lower.cpp) gives it
/// meaning. Every piece keeps the span of the text it came from.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace nn {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// `name = value` inside a call's parentheses.
struct KwArg {
  std::string name;
  SrcLoc loc;
  ExprPtr value;
};

struct Expr {
  enum class Kind {
    Number, // 0.5            `number`, `text` = spelling
    String, // "a.csv"        `text` = value
    Name,   // fc1            `text`
    Unary,  // -e             `op` = '-', `args[0]`
    Binary, // a @ b          `op` in + - * / @, `args[0..1]`
    Call,   // f(a, k = v)    `text` = callee, `args`, `kwargs`
    List,   // [1, 2]         `args`
  };
  Kind kind;
  /// The literal, the name, the operator token, the callee, or for a list
  /// its opening bracket through its closing one (when on one line).
  SrcLoc loc;
  std::string text;
  double number = 0;
  char op = 0;
  std::vector<ExprPtr> args;
  std::vector<KwArg> kwargs;

  Expr(Kind k, SrcLoc l) : kind(k), loc(std::move(l)) {}
  /// The keyword argument `name`, or null.
  const KwArg *kwarg(const std::string &name) const;
  /// The number, when this is a literal or a negated literal.
  bool constant(double &out) const;
};

/// `f32[784]`, `class(10)`, `real[3]`, `binary`.
struct TypeSpec {
  std::string name;
  SrcLoc loc;
  /// `class(10)`: the arguments in parentheses.
  std::vector<ExprPtr> args;
  /// `[784]`: the dimensions.
  std::vector<ExprPtr> dims;
  bool hasDims = false;
};

/// One item of a train block: `batch 64`, `optimizer sgd(lr = 0.1)`,
/// `early_stop(patience = 3)` (then `value` is that call).
struct TrainItem {
  std::string key;
  SrcLoc loc;
  ExprPtr value;
};

struct Stmt {
  enum class Kind { Model, Input, Label, Param, Bind, Loss, Train };
  Kind kind;
  /// The keyword, or for a binding its name.
  SrcLoc loc;
  /// Model, Input, Label, Param, Bind: the declared name.
  std::string name;
  SrcLoc nameLoc;
  /// Input, Label, Param.
  TypeSpec type;
  /// Param: the initializer (may be null); Bind: the value; Loss: the loss.
  ExprPtr value;
  /// Train.
  std::vector<TrainItem> items;
  /// A parse error was reported inside: its name, if any, is poisoned.
  bool broken = false;

  Stmt(Kind k, SrcLoc l) : kind(k), loc(std::move(l)) {}
};

struct Program {
  std::vector<Stmt> stmts;
  /// The parser stopped at a limit: statements after it were not read (so
  /// a missing 'loss' is not reported).
  bool truncated = false;
};

/// "Call 'dense' 7:7" style one-line description of an expression.
std::string describe(const Expr &e);
/// The indented tree printed by `nnc emit --stage=ast`.
std::string printAst(const Program &p);

} // namespace nn
