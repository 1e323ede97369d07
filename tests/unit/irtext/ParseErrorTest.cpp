//===- ParseErrorTest.cpp - Bad IR text gives located errors --------------===//
///
/// \file
/// Every error of the IR parser, with its `file:line:col`, and a mutation
/// fuzz: truncated and corrupted texts either parse or report an error,
/// never crash or throw anything else.
///
//===----------------------------------------------------------------------===//

#include "../passes/TestGraphs.h"

#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/Autodiff.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

#include <random>

using namespace nn;

namespace {

/// The first diagnostic line for `text`, which must fail to parse.
std::string firstError(const std::string &text) {
  DiagEngine diags;
  try {
    parseGraph("bad.nnir", text, diags);
  } catch (const DiagnosedError &) {
    std::string all = diags.str();
    return all.substr(0, all.find('\n'));
  }
  ADD_FAILURE() << "parsed: " << text;
  return "";
}

const char *kHead = "graph g {\n  %x = input \"x\" : f32[N,2]\n";

} // namespace

TEST(ParseError, Structure) {
  EXPECT_EQ(firstError(""), "bad.nnir:1:1: error: expected 'graph', found "
                            "end of file");
  EXPECT_EQ(firstError("graf g {}"),
            "bad.nnir:1:1: error: expected 'graph', found 'graf'");
  EXPECT_EQ(firstError("graph {}"),
            "bad.nnir:1:7: error: expected a name after 'graph', found '{'");
  EXPECT_EQ(firstError("graph g\n  %x"),
            "bad.nnir:2:3: error: expected '{' to open the graph, found '%x'");
  EXPECT_EQ(firstError(std::string(kHead)),
            "bad.nnir:3:1: error: expected a node, 'output', 'update' or "
            "'}', found end of file");
  EXPECT_EQ(firstError("graph g {} }"),
            "bad.nnir:1:12: error: expected end of file after the graph, "
            "found '}'");
  EXPECT_EQ(firstError("graph g { output = %x }"),
            "bad.nnir:1:18: error: expected a name after 'output', found '='");
  EXPECT_EQ(firstError(std::string(kHead) + "  update %x = %x\n}"),
            "bad.nnir:3:13: error: expected '<-' between the update's target "
            "and value, found '='");
}

// Found by fuzzing: a number at the very start of the text made the lexer
// read the character before it (undefined behaviour, caught by UBSan in the
// sanitizer suite).
TEST(ParseError, NumberAtTheStartOfTheText) {
  EXPECT_EQ(firstError("3 A shape"),
            "bad.nnir:1:1: error: expected 'graph', found '3'");
  EXPECT_EQ(firstError("7"), "bad.nnir:1:1: error: expected 'graph', found '7'");
}

TEST(ParseError, Values) {
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = neg %z : ?\n}"),
            "bad.nnir:3:12: error: use of undefined value '%z'");
  EXPECT_EQ(firstError(std::string(kHead) + "  %x = neg %x : ?\n}"),
            "bad.nnir:3:3: error: redefinition of value '%x'");
  EXPECT_EQ(firstError(std::string(kHead) + "  output loss = %nope\n}"),
            "bad.nnir:3:17: error: use of undefined value '%nope'");
  EXPECT_EQ(firstError(std::string(kHead) + "  % = neg %x : ?\n}"),
            "bad.nnir:3:3: error: expected a value name after '%'");
}

TEST(ParseError, Ops) {
  DiagEngine diags;
  EXPECT_THROW(parseGraph("bad.nnir",
                          std::string(kHead) + "  %y = matmull %x, %x : ?\n}",
                          diags),
               DiagnosedError);
  EXPECT_EQ(diags.str(), "bad.nnir:3:8: error: unknown op 'matmull'\n"
                         "    %y = matmull %x, %x : ?\n"
                         "         ^~~~~~~\n"
                         "help: did you mean 'matmul'?\n"
                         "1 error generated.\n");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = matmul %x : ?\n}"),
            "bad.nnir:3:8: error: 'matmul' takes 2 operands, got 1");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = relu : ?\n}"),
            "bad.nnir:3:8: error: 'relu' takes 1 operand, got 0");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = param : f32\n}"),
            "bad.nnir:3:14: error: expected the param's name as a string, "
            "found ':'");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = const : f32\n}"),
            "bad.nnir:3:14: error: expected a number, found ':'");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = const 1.2.3 : f32\n}"),
            "bad.nnir:3:14: error: malformed number '1.2.3'");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = const 1e999 : f32\n}"),
            "bad.nnir:3:14: error: number '1e999' is out of range");
  EXPECT_EQ(firstError(std::string(kHead) + "  %y = const [1, 2 : f32\n}"),
            "bad.nnir:3:20: error: expected ']' to close the list of values, "
            "found ':'");
}

TEST(ParseError, Attributes) {
  auto node = [](const std::string &rest) {
    return std::string(kHead) + "  %y = sum %x " + rest + "\n}";
  };
  EXPECT_EQ(firstError(node("{axes = 1} : ?")),
            "bad.nnir:3:16: error: unknown attribute 'axes'");
  EXPECT_EQ(firstError(node("{axis = 1, axis = 2} : ?")),
            "bad.nnir:3:26: error: duplicate attribute 'axis'");
  EXPECT_EQ(firstError(node("{axis = x} : ?")),
            "bad.nnir:3:23: error: expected an axis, found 'x'");
  EXPECT_EQ(firstError(node("{axis = 99999999999999999999} : ?")),
            "bad.nnir:3:23: error: expected an axis, found "
            "'99999999999999999999'");
  EXPECT_EQ(firstError(node("{kind = maybe} : ?")),
            "bad.nnir:3:23: error: expected a label kind (binary, class or "
            "real)");
  EXPECT_EQ(firstError(node("{init = hee} : ?")),
            "bad.nnir:3:23: error: unknown initializer 'hee'");
  EXPECT_EQ(firstError(node("{init = normal(0, 1} : ?")),
            "bad.nnir:3:34: error: expected ')' to close the initializer's "
            "arguments, found '}'");
  EXPECT_EQ(firstError(node("{name = x} : ?")),
            "bad.nnir:3:23: error: expected the name as a string, found 'x'");
  EXPECT_EQ(firstError(node("{axis = 1 : ?")),
            "bad.nnir:3:25: error: expected '}' to close the attributes, "
            "found ':'");
}

TEST(ParseError, TypesAndLocations) {
  auto node = [](const std::string &rest) {
    return std::string(kHead) + "  %y = neg %x " + rest + "\n}";
  };
  EXPECT_EQ(firstError(node("f32[N,2]")),
            "bad.nnir:3:15: error: expected ':' before the type, found 'f32'");
  EXPECT_EQ(firstError(node(": f64[2]")),
            "bad.nnir:3:17: error: expected a type such as 'f32[N,784]' or "
            "'?', found 'f64'");
  EXPECT_EQ(firstError(node(": f32[2,M]")),
            "bad.nnir:3:23: error: expected a dimension, found 'M'");
  EXPECT_EQ(firstError(node(": f32[-3]")),
            "bad.nnir:3:21: error: dimension -3 is out of range");
  EXPECT_EQ(firstError(node(": f32[2 loc(\"f\":1:1)")),
            "bad.nnir:3:23: error: expected ']' to close the dimensions, "
            "found 'loc'");
  EXPECT_EQ(firstError(node(": ? loc(f:1:1)")),
            "bad.nnir:3:23: error: expected the file name as a string, found "
            "'f'");
  EXPECT_EQ(firstError(node(": ? loc(\"f\":1)")),
            "bad.nnir:3:28: error: expected ':' after the line number, found "
            "')'");
  EXPECT_EQ(firstError(node(": ? loc(\"f\":1:99999999999)")),
            "bad.nnir:3:29: error: column number 99999999999 is out of "
            "range");
}

TEST(ParseError, Lexical) {
  EXPECT_EQ(firstError("graph \"g {}"),
            "bad.nnir:1:7: error: missing terminating '\"' character");
  EXPECT_EQ(firstError("graph \"a\\qb\" {}"),
            "bad.nnir:1:7: error: unknown escape sequence in string");
  EXPECT_EQ(firstError("graph g { $ }"),
            "bad.nnir:1:11: error: unexpected character '$'");
  EXPECT_EQ(firstError(std::string("graph g { \x01 }")),
            "bad.nnir:1:11: error: unexpected character '\\x01'");
}

TEST(ParseError, MutatedTextNeverCrashes) {
  DiagEngine d;
  OptimizerSpec opt;
  opt.momentum = 0.9;
  Graph g = differentiate(inferShapes(test::mlpGraph(), d), &opt);
  const std::string text = printGraph(g);
  auto tryParse = [](const std::string &t) {
    DiagEngine diags;
    try {
      Graph out = parseGraph("fuzz.nnir", t, diags);
      printGraph(out); // whatever parsed must print
    } catch (const DiagnosedError &) {
      EXPECT_TRUE(diags.hasErrors());
    }
  };
  // Every prefix.
  for (size_t n = 0; n < text.size(); n += 7)
    tryParse(text.substr(0, n));
  // Random byte edits: replace, delete, duplicate a span.
  std::mt19937 rng(1234);
  const std::string alphabet = "%=:,[]{}()?-<#\"\\ \n0123456789aeNf.x\x80\xff";
  for (int iter = 0; iter < 1500; ++iter) {
    std::string t = text;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      size_t pos = rng() % t.size();
      switch (rng() % 3) {
      case 0:
        t[pos] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        t.erase(pos, 1 + rng() % 8);
        break;
      case 2:
        t.insert(pos, t.substr(rng() % t.size(), rng() % 16));
        break;
      }
    }
    tryParse(t);
  }
}
