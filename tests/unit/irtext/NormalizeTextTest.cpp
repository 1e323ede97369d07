//===- NormalizeTextTest.cpp - normalize's eps in the IR text -------------===//
///
/// \file
/// normalize and normalize_grad always print their eps (Node::param), and
/// the text parses back to the same eps, bit for bit; an eps that is not a
/// number is an error at the attribute; CSE keeps two normalize of one
/// value with different eps apart (it keys on the attribute texts).
///
//===----------------------------------------------------------------------===//

#include "ir/Attributes.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

const char *kText = "graph g {\n"
                    "  %x = input \"x\" : f32[N,4]\n"
                    "  %dy = input \"dy\" : f32[N,4]\n"
                    "  %y = normalize %x {eps = 1e-05} : f32[N,4]\n"
                    "  %z = normalize %x {eps = 0.1} : f32[N,4]\n"
                    "  %dx = normalize_grad %dy, %x {eps = 3e-07} : f32[N,4]\n"
                    "  output y = %y\n"
                    "  output z = %z\n"
                    "  output dx = %dx\n"
                    "}\n";

} // namespace

TEST(NormalizeText, EpsPrintsAndParsesBack) {
  DiagEngine diags;
  Graph g = parseGraph("n.nnir", kText, diags);
  EXPECT_EQ(g[2].param, 1e-5);
  EXPECT_EQ(g[3].param, 0.1);
  EXPECT_EQ(g[4].param, 3e-7);
  PrintOptions noLoc;
  noLoc.locations = false;
  EXPECT_EQ(printGraph(g, noLoc), kText);
  // eps 0 is printed too: the attribute is always there on these ops.
  g[2].param = 0;
  EXPECT_NE(printGraph(g, noLoc).find("normalize %x {eps = 0}"),
            std::string::npos);
  EXPECT_NE(attributeTexts(g[2]), attributeTexts(g[3])); // CSE keeps both
}

TEST(NormalizeText, EpsMustBeANumber) {
  DiagEngine diags;
  std::string bad = "graph g {\n  %x = input \"x\" : f32[N,4]\n"
                    "  %y = normalize %x {eps = small} : f32[N,4]\n"
                    "  output y = %y\n}\n";
  EXPECT_THROW(parseGraph("n.nnir", bad, diags), DiagnosedError);
  EXPECT_NE(diags.str().find("n.nnir:3:28: error: expected a number, found "
                             "'small'"),
            std::string::npos)
      << diags.str();
}
