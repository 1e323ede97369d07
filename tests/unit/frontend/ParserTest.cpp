//===- ParserTest.cpp - Tokens to syntax tree -----------------------------===//

#include "frontend/Parser.h"
#include "frontend/Frontend.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

Program parseOk(const std::string &text) {
  DiagEngine diags;
  diags.addSource("p.nn", text);
  Program p = parse(lex("p.nn", text, diags), diags);
  EXPECT_FALSE(diags.hasErrors()) << diags.str();
  return p;
}

} // namespace

TEST(Parser, Statements) {
  Program p = parseOk("model m\ninput x : f32[2, 3]\nlabel y : class(4)\n"
                      "param w : f32 = 1\nz = x\nloss mse(z, y)\n"
                      "train { batch 2 }\n");
  ASSERT_EQ(p.stmts.size(), 7u);
  EXPECT_EQ(p.stmts[0].kind, Stmt::Kind::Model);
  EXPECT_EQ(p.stmts[0].name, "m");
  const Stmt &in = p.stmts[1];
  EXPECT_EQ(in.kind, Stmt::Kind::Input);
  EXPECT_EQ(in.type.name, "f32");
  ASSERT_EQ(in.type.dims.size(), 2u);
  EXPECT_EQ(in.type.dims[1]->number, 3);
  EXPECT_EQ(p.stmts[2].type.args.size(), 1u);
  EXPECT_EQ(p.stmts[3].value->kind, Expr::Kind::Number);
  EXPECT_EQ(p.stmts[4].kind, Stmt::Kind::Bind);
  EXPECT_EQ(p.stmts[4].nameLoc.line, 5);
  EXPECT_EQ(p.stmts[5].value->kind, Expr::Kind::Call);
  ASSERT_EQ(p.stmts[6].items.size(), 1u);
  EXPECT_EQ(p.stmts[6].items[0].key, "batch");
}

TEST(Parser, PrecedenceAndAssociativity) {
  Program p = parseOk("a = x - y - z * w @ v + -u\n");
  // ((x - y) - ((z * w) @ v)) + (-u)
  const Expr &e = *p.stmts[0].value;
  ASSERT_EQ(e.op, '+');
  EXPECT_EQ(e.args[1]->kind, Expr::Kind::Unary);
  const Expr &sub = *e.args[0];
  ASSERT_EQ(sub.op, '-');
  EXPECT_EQ(sub.args[0]->op, '-');
  const Expr &mm = *sub.args[1];
  ASSERT_EQ(mm.op, '@');
  EXPECT_EQ(mm.args[0]->op, '*');
  EXPECT_EQ(mm.args[1]->text, "v");
}

TEST(Parser, ParenthesesAndCalls) {
  Program p = parseOk("a = 2 * (x + y)\nb = sum(f(x), axis = 0)\n");
  const Expr &a = *p.stmts[0].value;
  EXPECT_EQ(a.op, '*');
  EXPECT_EQ(a.args[1]->op, '+');
  const Expr &b = *p.stmts[1].value;
  ASSERT_EQ(b.kind, Expr::Kind::Call);
  EXPECT_EQ(b.args.size(), 1u);
  ASSERT_NE(b.kwarg("axis"), nullptr);
  EXPECT_EQ(b.kwarg("axis")->value->number, 0);
  EXPECT_EQ(b.kwarg("axis")->loc.col, 15);
}

TEST(Parser, NestedListSpansItsBrackets) {
  Program p = parseOk("param w : f32[2, 2] = [[1, 2], [3, 4]]\n");
  const Expr &l = *p.stmts[0].value;
  ASSERT_EQ(l.kind, Expr::Kind::List);
  EXPECT_EQ(l.loc.col, 23);
  EXPECT_EQ(l.loc.len, 16);
  EXPECT_EQ(l.args[1]->args[0]->number, 3);
}

TEST(Parser, BrokenStatementsKeepTheirNames) {
  DiagEngine diags;
  std::string text = "a = (x\nb = 1\ninput c : \n";
  Program p = parse(lex("p.nn", text, diags), diags);
  ASSERT_EQ(p.stmts.size(), 3u);
  EXPECT_TRUE(p.stmts[0].broken);
  EXPECT_EQ(p.stmts[0].name, "a");
  EXPECT_FALSE(p.stmts[1].broken);
  EXPECT_TRUE(p.stmts[2].broken);
  EXPECT_EQ(p.stmts[2].name, "c");
  EXPECT_EQ(diags.errorCount(), 2);
}

TEST(Parser, DumpAst) {
  DiagEngine diags;
  std::string out = dumpAst("p.nn", "p = sigmoid(x @ w)\n", diags);
  EXPECT_EQ(out, "program\n"
                 "  bind 'p' <1:1>\n"
                 "    call 'sigmoid' <1:5>\n"
                 "      binary '@' <1:15>\n"
                 "        name 'x' <1:13>\n"
                 "        name 'w' <1:17>\n");
  EXPECT_EQ(dumpAst("p.nn", "p = (\n", diags), "");
  EXPECT_TRUE(diags.hasErrors());
}
