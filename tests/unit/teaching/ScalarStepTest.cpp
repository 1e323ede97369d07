//===- ScalarStepTest.cpp - The scalar view against the interpreter -------===//
///
/// \file
/// `nnc explain --scalar` writes every element of every computing node with
/// the reference interpreter's value; these tests hold each printed result
/// against the interpreter's value of the same node and element for the
/// same step (and every element must be written), on the lecture's churn
/// neuron (file order, the lecture's initial weights) and on xor (tanh
/// layer, fused dense gradients, SGD with momentum).
///
//===----------------------------------------------------------------------===//

#include "ExampleStep.h"

#include "frontend/Frontend.h"
#include "ir/Support.h"
#include "passes/Pipeline.h"
#include "runtime/Dataset.h"
#include "runtime/Interpreter.h"
#include "runtime/ParamInit.h"
#include "runtime/ScalarStep.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace nn;
using nn::test::Example;
using nn::test::loadExample;
using nn::test::loadText;

namespace {

/// Every line that is a node's element equals the interpreter's value.
void checkAgainstInterpreter(const Example &ex) {
  std::vector<ScalarLine> lines = scalarStep(ex.fused, ex.leaves);
  std::vector<Value> ref = Interpreter(ex.fused).run(ex.leaves);
  int checked = 0;
  for (const ScalarLine &l : lines) {
    // The printed result is the value, as the view formats it.
    std::string tail = " = " + scalarText(l.value);
    ASSERT_GE(l.text.size(), tail.size());
    EXPECT_EQ(l.text.substr(l.text.size() - tail.size()), tail) << l.text;
    if (l.node < 0)
      continue;
    ASSERT_LT(l.index, ref[l.node].numel()) << l.text;
    double want = ref[l.node].data[l.index];
    EXPECT_NEAR(l.value, want, 1e-12 * std::max(1.0, std::fabs(want)))
        << l.text;
    ++checked;
  }
  // Every element of every node that computes something was written out
  // (transposes and broadcasts move numbers; counts are the batch size).
  int64_t elements = 0;
  for (NodeId id = 0; id < ex.fused.size(); ++id) {
    OpKind op = ex.fused[id].op;
    if (!hasTrait(op, kLeaf) && op != OpKind::Transpose &&
        op != OpKind::Expand && op != OpKind::Count)
      elements += ref[id].numel();
  }
  EXPECT_EQ(checked, elements);
}

TEST(ScalarStep, ChurnMatchesInterpreter) {
  Example ex = loadExample("churn.nn", "churn.csv", "keep", 5);
  checkAgainstInterpreter(ex);
}

TEST(ScalarStep, XorMatchesInterpreter) {
  Example ex = loadExample("xor.nn", "xor.csv", "y", 4);
  checkAgainstInterpreter(ex);
}

// Softmax, its cross-entropy and fused gradient, L2 (a fused.elementwise).
TEST(ScalarStep, SoftmaxWithL2MatchesInterpreter) {
  Example ex = loadText("cls",
                        "model cls\ninput x : f32[2]\nlabel y : class(3)\n"
                        "out = dense(x, 3)\n"
                        "loss cross_entropy(softmax(out), y)\n"
                        "train { data csv(\"cls.csv\", label = \"c\") "
                        "optimizer sgd(lr = 0.1, momentum = 0.5) batch 3 "
                        "l2 0.01 seed 3 }\n",
                        "a,b,c\n1,2,0\n2,1,1\n0,1,2\n", "c", 3);
  checkAgainstInterpreter(ex);
}

// Mean squared error on a sigmoid hidden layer (dense_grad_input too).
TEST(ScalarStep, MseMatchesInterpreter) {
  Example ex = loadText("reg",
                        "model reg\ninput x : f32[2]\nlabel y : real\n"
                        "h = dense(x, 3, sigmoid)\nh2 = dense(h, 2, relu)\n"
                        "out = dense(h2, 1)\nloss mse(out, y)\n"
                        "train { data csv(\"reg.csv\", label = \"t\") "
                        "optimizer sgd(lr = 0.1) batch 3 seed 5 }\n",
                        "a,b,t\n1,2,3\n2,1,0.5\n0,1,1\n", "t", 3);
  checkAgainstInterpreter(ex);
}

TEST(ScalarStep, ChurnIsTheLectureNeuronComputedRight) {
  Example ex = loadExample("churn.nn", "churn.csv", "keep", 5);
  std::vector<ScalarLine> lines = scalarStep(ex.fused, ex.leaves);
  auto find = [&](const std::string &prefix) -> const ScalarLine * {
    for (const ScalarLine &l : lines)
      if (l.text.rfind(prefix, 0) == 0)
        return &l;
    return nullptr;
  };
  // z = b + w1 hours + w2 days with w = (0.1, 0.5), b = 0.4, user B: 8, 6.
  // The parameters are float32 (0.1f is 0.1000000015), hence 1e-6.
  const ScalarLine *zB = find("z[B] = ");
  ASSERT_TRUE(zB);
  EXPECT_NEAR(zB->value, 0.4 + 0.1 * 8 + 0.5 * 6, 1e-6);
  const ScalarLine *pB = find("p[B] = ");
  ASSERT_TRUE(pB);
  EXPECT_NEAR(pB->value, 1 / (1 + std::exp(-4.2)), 1e-6); // not 0.967
  // The per-user BCE terms: user E (y = 0) costs -log(1 - p), not -log p.
  const ScalarLine *lE = find("loss[E] = ");
  ASSERT_TRUE(lE);
  double pE = 1 / (1 + std::exp(-1.9));
  EXPECT_NEAR(lE->value, -std::log(1 - pE), 1e-6);
  // The update of b in the lecture's form w_new = w_old - lr * gradient.
  const ScalarLine *b = find("new.b = b - lr * d.b = 0.4 - 0.02 * (");
  ASSERT_TRUE(b);
}

TEST(ScalarStep, RefusesLargeBatches) {
  Example ex = loadExample("churn.nn", "churn.csv", "keep", 5);
  ScalarLimits small;
  small.maxBatch = 4;
  EXPECT_THROW(scalarStep(ex.fused, ex.leaves, small), UserError);
  small = {};
  small.maxLines = 10;
  EXPECT_THROW(scalarStep(ex.fused, ex.leaves, small), UserError);
}

} // namespace
