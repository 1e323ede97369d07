//===- LexerTest.cpp - Tokens of the .nn language -------------------------===//

#include "frontend/Lexer.h"
#include "frontend/Frontend.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

std::vector<Token> lexText(const std::string &text, DiagEngine &diags) {
  diags.addSource("t.nn", text);
  return lex("t.nn", text, diags);
}

std::string kinds(const std::vector<Token> &toks) {
  std::string s;
  for (const Token &t : toks)
    s += std::string(s.empty() ? "" : " ") + tokName(t.kind);
  return s;
}

} // namespace

TEST(Lexer, DeclarationTokens) {
  DiagEngine diags;
  auto toks = lexText("input x : f32[784]  # pixels\n", diags);
  EXPECT_FALSE(diags.hasErrors());
  EXPECT_EQ(kinds(toks), "keyword identifier colon identifier l_square number "
                         "r_square newline eof");
  EXPECT_EQ(toks[1].text, "x");
  EXPECT_EQ(toks[1].loc.line, 1);
  EXPECT_EQ(toks[1].loc.col, 7);
  EXPECT_EQ(toks[5].number, 784);
  EXPECT_EQ(toks[5].loc.col, 15);
  EXPECT_EQ(toks[5].loc.len, 3);
}

TEST(Lexer, OperatorsAndNumbers) {
  DiagEngine diags;
  auto toks = lexText("z = x @ w + -1.5e-3 * .5 / 2 - 1E2", diags);
  EXPECT_FALSE(diags.hasErrors());
  EXPECT_EQ(kinds(toks), "identifier equal identifier at identifier plus "
                         "minus number star number slash number minus number "
                         "eof");
  EXPECT_DOUBLE_EQ(toks[7].number, 1.5e-3);
  EXPECT_DOUBLE_EQ(toks[9].number, 0.5);
  EXPECT_DOUBLE_EQ(toks[13].number, 100);
}

TEST(Lexer, BlankLinesAndCommentsCollapseToOneNewline) {
  DiagEngine diags;
  auto toks = lexText("\n\n# header\nmodel m\n\n  # note\n\nloss x\n", diags);
  EXPECT_EQ(kinds(toks),
            "keyword identifier newline keyword identifier newline eof");
  EXPECT_EQ(toks[0].loc.line, 4);
  EXPECT_EQ(toks[3].loc.line, 8);
}

TEST(Lexer, StringsWithEscapes) {
  DiagEngine diags;
  auto toks = lexText(R"(data csv("a \"b\".csv", label = "y#1"))", diags);
  EXPECT_FALSE(diags.hasErrors());
  ASSERT_EQ(toks[3].kind, Tok::String);
  EXPECT_EQ(toks[3].str, "a \"b\".csv");
  EXPECT_EQ(toks[3].text, R"("a \"b\".csv")");
  EXPECT_EQ(toks[7].str, "y#1"); // '#' inside a string is no comment
}

TEST(Lexer, KeywordsAreAFixedSet) {
  DiagEngine diags;
  auto toks = lexText("model input label param loss train data batch", diags);
  EXPECT_EQ(kinds(toks), "keyword keyword keyword keyword keyword keyword "
                         "identifier identifier eof");
}

TEST(Lexer, UnexpectedCharacter) {
  DiagEngine diags;
  auto toks = lexText("z = x $ w\n", diags);
  ASSERT_EQ(diags.errorCount(), 1);
  const Diagnostic &d = diags.diagnostics()[0];
  EXPECT_EQ(d.message, "unexpected character '$'");
  EXPECT_EQ(d.loc.line, 1);
  EXPECT_EQ(d.loc.col, 7);
  EXPECT_EQ(d.loc.len, 1);
  EXPECT_EQ(toks[3].kind, Tok::Invalid);
  EXPECT_EQ(toks[4].text, "w"); // lexing goes on
}

TEST(Lexer, ControlCharacterIsShownEscaped) {
  DiagEngine diags;
  lexText("x\x01", diags);
  ASSERT_EQ(diags.errorCount(), 1);
  EXPECT_EQ(diags.diagnostics()[0].message, "unexpected character '\\x01'");
}

TEST(Lexer, UnterminatedString) {
  DiagEngine diags;
  auto toks = lexText("train {\n  data idx(\"/tmp/x)\n}\n", diags);
  ASSERT_EQ(diags.errorCount(), 1);
  const Diagnostic &d = diags.diagnostics()[0];
  EXPECT_EQ(d.message, "unterminated string");
  EXPECT_EQ(d.loc.line, 2);
  EXPECT_EQ(d.loc.col, 12);
  // The next line is lexed normally.
  EXPECT_EQ(toks[toks.size() - 3].kind, Tok::RBrace);
}

TEST(Lexer, MalformedNumber) {
  DiagEngine diags;
  lexText("h = dense(x, 128x)", diags);
  ASSERT_EQ(diags.errorCount(), 1);
  EXPECT_EQ(diags.diagnostics()[0].message, "invalid number '128x'");
  EXPECT_EQ(diags.diagnostics()[0].loc.col, 14);
  EXPECT_EQ(diags.diagnostics()[0].loc.len, 4);
}

TEST(Lexer, DumpTokensFormat) {
  DiagEngine diags;
  std::string out = dumpTokens("t.nn", "loss bce(p, y)\n", diags);
  EXPECT_EQ(out, "1:1 keyword 'loss'\n"
                 "1:6 identifier 'bce'\n"
                 "1:9 l_paren '('\n"
                 "1:10 identifier 'p'\n"
                 "1:11 comma ','\n"
                 "1:13 identifier 'y'\n"
                 "1:14 r_paren ')'\n"
                 "1:15 newline '\\n'\n"
                 "2:1 eof ''\n");
}
