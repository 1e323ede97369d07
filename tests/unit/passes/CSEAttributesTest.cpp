//===- CSEAttributesTest.cpp - CSE merges only nodes equal in every field -===//
///
/// Two nodes with the same op and operands that differ only in an attribute
/// (act, transA/transB, a fused.elementwise body, axis) compute different
/// values: CSE must keep both. Identical ones still merge.
///
//===----------------------------------------------------------------------===//

#include "ir/Diagnostics.h"
#include "ir/IRParser.h"
#include "ir/Verifier.h"
#include "passes/CSE.h"

#include <gtest/gtest.h>

#include <tuple>

using namespace nn;

namespace {

Graph parse(const std::string &text) {
  DiagEngine diags;
  Graph g = parseGraph("cse.nnir", text, diags);
  EXPECT_TRUE(verifyGraph(g).empty()) << text;
  return g;
}

int count(const Graph &g, OpKind k) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k;
  return n;
}

/// A graph of two nodes `OP %OPERANDS {ATTRS_i} : TYPE`, both outputs.
std::string pair(const std::string &leaves, const std::string &op,
                 const std::string &attrs1, const std::string &attrs2,
                 const std::string &type) {
  return "graph g {\n" + leaves + "  %r1 = " + op + " {" + attrs1 + "} : " +
         type + "\n  %r2 = " + op + " {" + attrs2 + "} : " + type +
         "\n  output r1 = %r1\n  output r2 = %r2\n}\n";
}

const char *kDenseLeaves = "  %x = input \"x\" : f32[N,3]\n"
                           "  %w = param \"w\" {init = zeros} : f32[3,2]\n"
                           "  %b = param \"b\" {init = zeros} : f32[2]\n";

const char *kSquareLeaves = "  %a = input \"a\" : f32[3,3]\n"
                            "  %c = input \"c\" : f32[3,3]\n";

} // namespace

TEST(CSEAttributes, DenseWithDifferentActivationsStaysApart) {
  Graph g = parse(pair(kDenseLeaves, "fused.dense %x, %w, %b", "act = relu",
                       "act = tanh", "f32[N,2]"));
  ASSERT_EQ(count(g, OpKind::Dense), 2);
  Graph out = cse(g);
  EXPECT_TRUE(verifyGraph(out).empty());
  ASSERT_EQ(count(out, OpKind::Dense), 2);
  EXPECT_NE(out[*out.output("r1")].act, out[*out.output("r2")].act);
}

TEST(CSEAttributes, DenseWithAndWithoutActivationStaysApart) {
  Graph out = cse(parse(pair(kDenseLeaves, "fused.dense %x, %w, %b",
                             "act = none", "act = sigmoid", "f32[N,2]")));
  EXPECT_EQ(count(out, OpKind::Dense), 2);
}

TEST(CSEAttributes, MatMulWithDifferentTransposesStaysApart) {
  for (auto [a1, a2] : {std::pair{"transA", "transB"},
                        std::pair{"transA", "transA, transB"}}) {
    Graph out = cse(parse(
        pair(kSquareLeaves, "fused.matmul %a, %c", a1, a2, "f32[3,3]")));
    EXPECT_EQ(count(out, OpKind::FusedMatMul), 2) << a1 << " / " << a2;
  }
}

TEST(CSEAttributes, ElementwiseWithDifferentBodiesStaysApart) {
  for (auto [b1, b2] :
       {std::pair{"body = exp(%0)", "body = log(%0)"},
        std::pair{"body = mul(%0, 2)", "body = mul(%0, 3)"},
        std::pair{"body = sub(%0, %1)", "body = sub(%1, %0)"}}) {
    Graph out = cse(parse(
        pair(kSquareLeaves, "fused.elementwise %a, %c", b1, b2, "f32[3,3]")));
    EXPECT_EQ(count(out, OpKind::Elementwise), 2) << b1 << " / " << b2;
  }
}

TEST(CSEAttributes, NodesEqualInEveryFieldStillMerge) {
  struct Case {
    const char *leaves, *op, *attrs, *type;
  };
  for (const Case &c :
       {Case{kDenseLeaves, "fused.dense %x, %w, %b", "act = relu", "f32[N,2]"},
        Case{kSquareLeaves, "fused.matmul %a, %c", "transA", "f32[3,3]"},
        Case{kSquareLeaves, "fused.elementwise %a, %c",
             "body = sub(%0, mul(0.5, %1))", "f32[3,3]"}}) {
    Graph g = parse(pair(c.leaves, c.op, c.attrs, c.attrs, c.type));
    Graph out = cse(g);
    EXPECT_TRUE(verifyGraph(out).empty()) << c.op;
    EXPECT_EQ(out.size(), g.size() - 1) << c.op;
    EXPECT_EQ(*out.output("r1"), *out.output("r2")) << c.op;
  }
}

// leaky_relu's slope is an attribute too: on the op, on a fused dense op and
// inside a fused.elementwise body.
TEST(CSEAttributes, LeakyReluWithDifferentSlopesStaysApart) {
  const char *x = "  %x = input \"x\" : f32[N,3]\n";
  for (auto [op, leaves, type] :
       {std::tuple{"leaky_relu %x", x, "f32[N,3]"},
        std::tuple{"fused.dense %x, %w, %b", kDenseLeaves, "f32[N,2]"}}) {
    std::string act =
        std::string(op).starts_with("fused") ? "act = leaky_relu, " : "";
    Graph g =
        parse(pair(leaves, op, act + "slope = 0.1", act + "slope = 0.2", type));
    Graph out = cse(g);
    EXPECT_NE(out[*out.output("r1")].param, out[*out.output("r2")].param) << op;
    Graph same = cse(parse(
        pair(leaves, op, act + "slope = 0.1", act + "slope = 0.1", type)));
    EXPECT_EQ(*same.output("r1"), *same.output("r2")) << op;
  }
  Graph g = parse(pair(x, "fused.elementwise %x",
                       "body = leaky_relu(%0, slope = 0.1)",
                       "body = leaky_relu(%0, slope = 0.2)", "f32[N,3]"));
  Graph out = cse(g);
  EXPECT_NE(*out.output("r1"), *out.output("r2"));
}
