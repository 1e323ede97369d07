//===- LayerNormTest.cpp - layer_norm: lowering and its errors ------------===//
///
/// \file
/// `n = layer_norm(h)` lowers to normalize(h) (eps 1e-5, or `eps = ...`)
/// times n.weight (ones, [D]) plus n.bias (zeros, [D]), neither an L2
/// weight; the check of a model with it passes. Each misuse is one located
/// error: a scalar, an input whose last axis is the batch or unknown, a
/// wrong argument count, a bad eps, layer_norm not bound to a name; and
/// `normalize` is not a function of the language.
///
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

std::string model(const std::string &body) {
  return "input x : f32[6]\nlabel y : class(3)\nparam s : f32 = 2\n" + body +
         "loss cross_entropy(softmax(out), y)\n";
}

/// The single error of `body` in model(): its message, line and column.
Diagnostic onlyError(const std::string &body) {
  auto p = parseText(model(body));
  std::vector<Diagnostic> errs = p->errors();
  EXPECT_EQ(errs.size(), 1u) << p->diags.str();
  return errs.empty() ? Diagnostic{} : errs[0];
}

} // namespace

TEST(LayerNorm, LowersToNormalizeTimesWeightPlusBias) {
  auto p = parseText(model("h = dense(x, 5)\nn = layer_norm(h)\n"
                           "m = layer_norm(n, eps = 0.001)\n"
                           "out = dense(m, 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  NodeId w = nodeNamed(g, "n.weight"), b = nodeNamed(g, "n.bias");
  ASSERT_GE(w, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(g[w].op, OpKind::Param);
  EXPECT_EQ(g[w].type.str(), "f32[5]");
  EXPECT_EQ(g[w].init.kind, InitKind::Constant);
  EXPECT_EQ(g[w].init.a, 1.0);
  EXPECT_FALSE(g[w].isWeight); // no L2 on a norm's scale
  EXPECT_EQ(g[b].type.str(), "f32[5]");
  EXPECT_EQ(g[b].init.kind, InitKind::Zeros);
  EXPECT_FALSE(g[b].isWeight);
  NodeId n = nodeNamed(g, "n");
  ASSERT_GE(n, 0);
  EXPECT_EQ(g[n].op, OpKind::Add);
  const Node &mul = g[g[n].inputs[0]];
  EXPECT_EQ(mul.op, OpKind::Mul);
  EXPECT_EQ(mul.inputs[1], w);
  EXPECT_EQ(g[n].inputs[1], b);
  const Node &norm = g[mul.inputs[0]];
  EXPECT_EQ(norm.op, OpKind::Normalize);
  EXPECT_EQ(norm.param, 1e-5);
  EXPECT_EQ(norm.inputs[0], nodeNamed(g, "h"));
  NodeId m = nodeNamed(g, "m.normalize");
  ASSERT_GE(m, 0);
  EXPECT_EQ(g[m].param, 0.001);
  EXPECT_EQ(g[n].type.str(), "f32[N,5]");
}

TEST(LayerNorm, ScalarIsALocatedError) {
  Diagnostic d = onlyError("n = layer_norm(s)\nout = dense(x, 3)\n");
  EXPECT_EQ(d.message, "'layer_norm' normalizes over the last axis of an f32 "
                       "tensor, but its input has type f32");
  EXPECT_EQ(d.loc.line, 4);
  EXPECT_EQ(d.loc.col, 16);
}

TEST(LayerNorm, LastAxisTheBatchOrUnknownIsALocatedError) {
  Diagnostic batch =
      onlyError("n = layer_norm(sum(x, axis = 1))\nout = dense(x, 3)\n");
  EXPECT_NE(batch.message.find("which is the batch axis of its input f32[N]"),
            std::string::npos)
      << batch.message;
  EXPECT_EQ(batch.loc.col, 16);
  auto p = parseText(model("n = layer_norm(x @ x)\nout = dense(x, 3)\n"));
  std::vector<Diagnostic> errs = p->errors();
  ASSERT_FALSE(errs.empty());
  bool unknown = false;
  for (const Diagnostic &d : errs)
    unknown |= d.message == "cannot tell the width of the input of "
                            "'layer_norm'";
  EXPECT_TRUE(unknown) << p->diags.str();
}

TEST(LayerNorm, ArgumentsAreChecked) {
  EXPECT_EQ(onlyError("n = layer_norm(x, 3)\nout = dense(n, 3)\n").message,
            "'layer_norm' takes 1 argument, got 2");
  EXPECT_EQ(onlyError("n = layer_norm()\nout = dense(x, 3)\n").message,
            "'layer_norm' takes 1 argument, got 0");
  EXPECT_EQ(
      onlyError("n = layer_norm(x, eps = 0)\nout = dense(n, 3)\n").message,
      "eps must be a positive number, as in 'layer_norm(h, eps = "
      "1e-5)'");
  EXPECT_EQ(
      onlyError("n = layer_norm(x, epsilon = 1)\nout = dense(n, 3)\n").message,
      "unknown argument 'epsilon' for 'layer_norm'");
}

TEST(LayerNorm, MustBeBoundToAName) {
  Diagnostic d = onlyError("out = dense(layer_norm(x), 3)\n");
  EXPECT_EQ(d.message, "'layer_norm' creates a layer and must be bound to a "
                       "name, as in 'n1 = layer_norm(h)'");
  Diagnostic fn = onlyError("n = normalize(x)\nout = dense(n, 3)\n");
  EXPECT_EQ(fn.message, "unknown function 'normalize'");
}
