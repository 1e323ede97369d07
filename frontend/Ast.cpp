//===- Ast.cpp - Printing the syntax tree ---------------------------------===//
///
/// \file
/// The `--stage=ast` view: one node per line, children indented by two
/// spaces, each with its `<line:col>`.
///
//===----------------------------------------------------------------------===//

#include "frontend/Ast.h"

#include <sstream>

namespace nn {

const KwArg *Expr::kwarg(const std::string &name) const {
  for (const KwArg &k : kwargs)
    if (k.name == name)
      return &k;
  return nullptr;
}

bool Expr::constant(double &out) const {
  if (kind == Kind::Number) {
    out = number;
    return true;
  }
  if (kind == Kind::Unary && op == '-' && args[0]->constant(out)) {
    out = -out;
    return true;
  }
  return false;
}

namespace {

std::string at(const SrcLoc &l) {
  return "<" + std::to_string(l.line) + ":" + std::to_string(l.col) + ">";
}

/// An expression written back as source, for types and short values.
std::string spell(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Number:
  case Expr::Kind::Name:
    return e.text;
  case Expr::Kind::String:
    return "\"" + e.text + "\"";
  case Expr::Kind::Unary:
    return std::string(1, e.op) + spell(*e.args[0]);
  case Expr::Kind::Binary:
    return spell(*e.args[0]) + " " + e.op + " " + spell(*e.args[1]);
  case Expr::Kind::Call:
  case Expr::Kind::List: {
    bool call = e.kind == Expr::Kind::Call;
    std::string s = call ? e.text + "(" : "[";
    bool first = true;
    for (const ExprPtr &a : e.args) {
      s += (first ? "" : ", ") + spell(*a);
      first = false;
    }
    for (const KwArg &k : e.kwargs) {
      s += (first ? "" : ", ") + k.name + " = " + spell(*k.value);
      first = false;
    }
    return s + (call ? ")" : "]");
  }
  }
  return "?";
}

std::string spellType(const TypeSpec &t) {
  std::string s = t.name;
  auto list = [](const std::vector<ExprPtr> &xs) {
    std::string r;
    for (size_t i = 0; i < xs.size(); ++i)
      r += (i ? "," : "") + spell(*xs[i]);
    return r;
  };
  if (!t.args.empty())
    s += "(" + list(t.args) + ")";
  if (t.hasDims)
    s += "[" + list(t.dims) + "]";
  return s;
}

void printExpr(std::ostream &os, const Expr &e, int depth) {
  os << std::string(2 * depth, ' ') << describe(e) << "\n";
  for (const ExprPtr &a : e.args)
    printExpr(os, *a, depth + 1);
  for (const KwArg &k : e.kwargs) {
    os << std::string(2 * (depth + 1), ' ') << "kwarg '" << k.name << "' "
       << at(k.loc) << "\n";
    printExpr(os, *k.value, depth + 2);
  }
}

const char *stmtName(Stmt::Kind k) {
  switch (k) {
  case Stmt::Kind::Model:
    return "model";
  case Stmt::Kind::Input:
    return "input";
  case Stmt::Kind::Label:
    return "label";
  case Stmt::Kind::Param:
    return "param";
  case Stmt::Kind::Bind:
    return "bind";
  case Stmt::Kind::Loss:
    return "loss";
  case Stmt::Kind::Train:
    return "train";
  }
  return "?";
}

} // namespace

std::string describe(const Expr &e) {
  std::string s;
  switch (e.kind) {
  case Expr::Kind::Number:
    s = "number " + e.text;
    break;
  case Expr::Kind::String:
    s = "string \"" + e.text + "\"";
    break;
  case Expr::Kind::Name:
    s = "name '" + e.text + "'";
    break;
  case Expr::Kind::Unary:
    s = std::string("unary '") + e.op + "'";
    break;
  case Expr::Kind::Binary:
    s = std::string("binary '") + e.op + "'";
    break;
  case Expr::Kind::Call:
    s = "call '" + e.text + "'";
    break;
  case Expr::Kind::List:
    s = "list";
    break;
  }
  return s + " " + at(e.loc);
}

std::string printAst(const Program &p) {
  std::ostringstream os;
  os << "program\n";
  for (const Stmt &s : p.stmts) {
    os << "  " << stmtName(s.kind);
    if (!s.name.empty())
      os << " '" << s.name << "'";
    bool typed = s.kind == Stmt::Kind::Input || s.kind == Stmt::Kind::Label ||
                 s.kind == Stmt::Kind::Param;
    if (typed)
      os << " : " << spellType(s.type);
    os << " " << at(s.loc) << "\n";
    if (s.value)
      printExpr(os, *s.value, 2);
    for (const TrainItem &item : s.items) {
      os << "    item '" << item.key << "' " << at(item.loc) << "\n";
      if (item.value)
        printExpr(os, *item.value, 3);
    }
  }
  return os.str();
}

} // namespace nn
