//===- AttributeTableTest.cpp - One table of node attributes --------------===//
///
/// \file
/// The attribute table (ir/Attributes.h) is what the printer writes, the
/// parser reads and CSE keys on: every row round-trips, a default node
/// carries none, and the parser's messages for attribute values come from
/// the table.
///
//===----------------------------------------------------------------------===//

#include "ir/Attributes.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <set>

using namespace nn;

namespace {

std::string firstError(const std::string &text) {
  DiagEngine diags;
  try {
    parseGraph("a.nnir", text, diags);
  } catch (const DiagnosedError &) {
    std::string all = diags.str();
    return all.substr(0, all.find('\n'));
  }
  ADD_FAILURE() << "parsed: " << text;
  return "";
}

/// One node with every attribute of the table set, as the printer writes
/// it (attributes on ops that would not carry them: the parser reads any).
const char *kEveryAttribute =
    "graph g {\n"
    "  %x = input \"x\" : f32[N,2]\n"
    "  %n = neg %x {axis = 1, classes = 3, kind = class, "
    "init = uniform(-0.5, 0.5), weight, transposed, values = [1, 2.5], "
    "act = leaky_relu, slope = 0.2, transA, transB, body = exp(%0)} : "
    "f32[N,2]\n"
    "  output n = %n\n"
    "}\n";

} // namespace

TEST(AttributeTable, NamesAreUniqueAndFound) {
  std::set<std::string> names;
  for (const AttrSpec &a : attributeTable()) {
    EXPECT_TRUE(names.insert(a.name).second) << a.name;
    EXPECT_EQ(findAttribute(a.name), &a);
  }
  EXPECT_EQ(findAttribute("name"), nullptr); // the printer's, not a row
  EXPECT_EQ(findAttribute("axes"), nullptr);
}

TEST(AttributeTable, EveryRowRoundTrips) {
  DiagEngine diags;
  Graph g = parseGraph("a.nnir", kEveryAttribute, diags);
  std::vector<std::string> texts = attributeTexts(g[1]);
  ASSERT_EQ(texts.size(), attributeTable().size());
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(texts[i].rfind(attributeTable()[i].name, 0), 0u) << texts[i];
  PrintOptions noLoc;
  noLoc.locations = false;
  EXPECT_EQ(printGraph(g, noLoc), kEveryAttribute);
}

TEST(AttributeTable, DefaultNodeCarriesNone) {
  EXPECT_TRUE(attributeTexts(makeNode(OpKind::Add, {})).empty());
  // Ops that always write an attribute, even at its default value.
  EXPECT_EQ(attributeTexts(makeNode(OpKind::Label, {})),
            std::vector<std::string>{"kind = real"});
  EXPECT_EQ(attributeTexts(makeNode(OpKind::Param, {})),
            std::vector<std::string>{"init = zeros"});
  EXPECT_EQ(attributeTexts(makeNode(OpKind::Dense, {})),
            std::vector<std::string>{"act = none"});
  EXPECT_TRUE(attributeTexts(makeNode(OpKind::FusedMatMul, {})).empty());
}

TEST(AttributeTable, ValueErrorsComeFromTheTable) {
  const std::string head = "graph g {\n  %x = input \"x\" : f32[N,2]\n";
  EXPECT_EQ(firstError(head + "  %n = neg %x {act = swish} : f32[N,2]\n}\n"),
            "a.nnir:3:22: error: expected an activation (none, gelu, "
            "leaky_relu, relu, sigmoid, silu, softplus, softsign or tanh)");
  EXPECT_EQ(firstError(head + "  %n = neg %x {slope = x} : f32[N,2]\n}\n"),
            "a.nnir:3:24: error: expected a number, found 'x'");
  EXPECT_EQ(firstError(head + "  %n = neg %x {kind = 3} : f32[N,2]\n}\n"),
            "a.nnir:3:23: error: expected a label kind (binary, class or "
            "real)");
  EXPECT_EQ(firstError(head + "  %n = neg %x {bogus} : f32[N,2]\n}\n"),
            "a.nnir:3:21: error: expected '=' after the attribute name, "
            "found '}'");
  EXPECT_EQ(firstError(head + "  %n = neg %x {axis = 1, axis = 2} : f32\n}\n"),
            "a.nnir:3:26: error: duplicate attribute 'axis'");
}

TEST(AttributeTable, VerifierNamesTheActivations) {
  Graph g;
  Node x = makeNode(OpKind::Input, {});
  x.name = "x";
  x.type = TensorType::of({kBatch, 2});
  NodeId xi = g.add(x);
  Node bias = makeNode(OpKind::DenseGradBias, {xi, xi});
  g.add(bias);
  std::string all;
  for (const std::string &e : verifyGraph(g, {}))
    all += e + "\n";
  EXPECT_NE(all.find("node 1 (fused.dense_grad_bias): needs an activation "
                     "(gelu, leaky_relu, relu, sigmoid, silu, softplus, "
                     "softsign or tanh)"),
            std::string::npos)
      << all;
}
