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

/// One node with every attribute of the table set that any op carries
/// when set, as the printer writes it (attributes on ops that would not
/// carry them: the parser reads any), and a node of each op that alone
/// carries a row (dropout: p; normalize: eps, both Node::param; conv2d
/// with a folded batch norm: affine, ir/ConvAffine.h).
const char *kEveryAttribute =
    "graph g {\n"
    "  %x = input \"x\" : f32[N,2]\n"
    "  %n = neg %x {axis = 1, classes = 3, kind = class, "
    "init = uniform(-0.5, 0.5), weight, transposed, values = [1, 2.5], "
    "act = leaky_relu, slope = 0.2, transA, transB, seed = 5, stream = 2, "
    "body = exp(%0)} : f32[N,2]\n"
    "  %optimizer.step = state \"optimizer.step\" : f32\n"
    "  %optimizer.first_row = state \"optimizer.first_row\" : f32\n"
    "  %d = dropout %n, %optimizer.step, %optimizer.first_row {p = 0.25, "
    "seed = 5, stream = 2} : f32[N,2]\n"
    "  %m = normalize %x {eps = 0.001} : f32[N,2]\n"
    "  %i = input \"i\" : f32[N,1,4,4]\n"
    "  %p = maxpool2d %i {kernel = [2, 3], stride = [1, 2], padding = [1, 0], "
    "dilation = [2, 1], groups = 2, shape = f32[N,16], buffer} : "
    "f32[N,1,3,1]\n"
    "  %w = input \"w\" : f32[2,1,1,1]\n"
    "  %s = input \"s\" : f32[2]\n"
    "  %c = conv2d %i, %w, %s, %s {kernel = [1, 1], stride = [1, 1], "
    "padding = [0, 0], affine = after} : f32[N,2,4,4]\n"
    "  output n = %n\n"
    "  output m = %m\n"
    "}\n";

/// Whether `text` (an attribute as a node's line writes it) is row `name`.
bool isRow(const std::string &text, const char *name) {
  return text == name || text.rfind(std::string(name) + " = ", 0) == 0;
}

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
  const std::vector<AttrSpec> &table = attributeTable();
  std::set<std::string> seen;
  for (NodeId id : {1, 4, 5, 7, 10}) {
    size_t row = 0; // each node's attributes in table order
    for (const std::string &t : attributeTexts(g[id])) {
      while (row < table.size() && !isRow(t, table[row].name))
        ++row;
      ASSERT_LT(row, table.size()) << t << " out of table order";
      seen.insert(table[row].name);
    }
  }
  EXPECT_EQ(seen.size(), table.size());
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
  EXPECT_EQ(firstError(head + "  %n = neg %x {affine = within} : f32\n}\n"),
            "a.nnir:3:25: error: expected 'before' or 'after' (the "
            "activation)");
}

TEST(AttributeTable, WindowAndShapeErrorsAreLocated) {
  const std::string head = "graph g {\n  %x = input \"x\" : f32[N,1,4,4]\n";
  EXPECT_EQ(firstError(head + "  %p = maxpool2d %x {kernel = [0, 2]} : f32\n}\n"),
            "a.nnir:3:31: error: a window's kernel, stride, padding and "
            "dilation are two whole numbers, [height, width], of at least 1");
  EXPECT_EQ(firstError(head + "  %p = maxpool2d %x {padding = [1]} : f32\n}\n"),
            "a.nnir:3:32: error: a window's kernel, stride, padding and "
            "dilation are two whole numbers, [height, width], of at least 0");
  EXPECT_EQ(firstError(head + "  %r = reshape %x {shape = f32} : f32\n}\n"),
            "a.nnir:3:28: error: a shape needs its dimensions, as in "
            "'shape = f32[N,1,28,28]'");
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
