//===- FunctionTableTest.cpp - .nn functions come from the op table -------===//
///
/// \file
/// The functions and activations of the .nn language are read from the op
/// table (ir/Ops.def): every unary elementwise, reduction, rows and loss op
/// but neg (written -x) and those only autodiff makes, every NN_ACTIVATION
/// row. The messages
/// built from the table stay those of the hand-written lists they replace.
///
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

const char *kHead = "input x : f32[2]\nlabel y : binary\n";

std::string firstError(const Parsed &p) {
  auto errs = p.errors();
  return errs.empty() ? "" : errs[0].message;
}

} // namespace

TEST(FunctionTable, EveryActivationIsADenseActivation) {
  for (Activation a : allActivations()) {
    std::string name = activationName(a);
    auto p = parseText(std::string(kHead) + "h = dense(x, 3, " + name +
                       ")\nloss bce(sigmoid(h @ h), y)\n");
    // The model may fail later (h @ h of [N,3]), never on the activation.
    EXPECT_EQ(firstError(*p).find("activation"), std::string::npos)
        << name << ": " << p->diags.str();
  }
  auto p = parseText(std::string(kHead) + "h = dense(x, 1, tanh)\n"
                                          "loss bce(sigmoid(h), y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  NodeId h = nodeNamed(p->model->graph, "h");
  ASSERT_GE(h, 0);
  std::optional<Activation> act = activationOf(p->model->graph[h].op);
  ASSERT_TRUE(act);
  EXPECT_STREQ(activationName(*act), "tanh");
}

TEST(FunctionTable, ActivationMessagesListTheTable) {
  auto p = parseText(std::string(kHead) + "h = dense(x, 4, zzzzzz)\n"
                                          "loss bce(sigmoid(h), y)\n");
  EXPECT_EQ(firstError(*p), "unknown activation 'zzzzzz'");
  EXPECT_EQ(p->help(), "the activations are gelu, leaky_relu, relu, sigmoid, "
                       "silu, softplus, softsign and tanh");
  p = parseText(std::string(kHead) + "h = dense(x, 4, 3)\n"
                                     "loss bce(sigmoid(h), y)\n");
  EXPECT_EQ(firstError(*p), "expected an activation: gelu, leaky_relu, relu, "
                            "sigmoid, silu, softplus, softsign or tanh");
}

TEST(FunctionTable, UnaryElementwiseOpsAreFunctions) {
  for (const char *fn :
       {"exp", "log", "sigmoid", "relu", "tanh", "softmax", "gelu", "silu",
        "softplus", "leaky_relu", "sqrt", "erf"}) {
    auto p =
        parseText(std::string(kHead) + "p = " + fn + "(x)\nloss mse(p, x)\n");
    EXPECT_TRUE(p->model) << fn << ": " << p->diags.str();
  }
}

// neg is written -x, step and count are made by autodiff, onehot too: none
// of them is a .nn function (frontend/LowerExpr.cpp, isFunction).
TEST(FunctionTable, OpsThatAreNotFunctions) {
  for (const char *fn : {"neg", "step", "count", "onehot", "add", "matmul",
                         "transpose", "expand"}) {
    auto p =
        parseText(std::string(kHead) + "p = " + fn + "(x)\nloss mse(p, x)\n");
    EXPECT_EQ(firstError(*p), std::string("unknown function '") + fn + "'")
        << p->diags.str();
  }
}

TEST(FunctionTable, FunctionKindsAreDispatchedByFamily) {
  auto p = parseText(std::string(kHead) + "p = sum(x, axis = 1)\n"
                                          "loss mse(p, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  NodeId s = -1;
  for (NodeId i = 0; i < p->model->graph.size(); ++i)
    if (p->model->graph[i].op == OpKind::Sum)
      s = i;
  ASSERT_GE(s, 0);
  EXPECT_EQ(p->model->graph[s].axis, 1);
  p = parseText(std::string(kHead) + "p = mse(x, x)\nloss mse(x, y)\n");
  EXPECT_EQ(firstError(*p),
            "'mse' is a loss function; use it in the 'loss' statement");
}
