//===- CheckModelTest.cpp - check-model predicts what autodiff rejects ----===//
///
/// checkModel's training rules mirror Autodiff.cpp's reshapeLike,
/// unbroadcast and expandAlong. Each model below is run both ways: the
/// check must reject it exactly when differentiate throws, and each case
/// says which way it goes, so neither side can drift silently.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "ir/Support.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

const char *kHead = "input x : f32[2]\nlabel y : binary\nparam w : f32[2]\n";

struct Case {
  const char *body; // declarations and the extra term of the loss
  const char *term;
  bool trainable;
};

Model parse(const std::string &text) {
  DiagEngine diags;
  std::optional<Model> m = parseModel("t.nn", text, diags);
  EXPECT_TRUE(m.has_value()) << text;
  return m ? *m : Model{};
}

/// True when check-model reports an error.
bool checkRejects(const Model &m) {
  DiagEngine diags;
  PipelineOptions opts;
  opts.checkModel = true;
  try {
    runPipeline(m.graph, m.recipe, Stage::Forward, opts, diags);
    return false;
  } catch (const DiagnosedError &) {
    return true;
  }
}

/// True when differentiate (unchecked) throws a user error.
bool autodiffRejects(const Model &m) {
  DiagEngine diags;
  try {
    runPipeline(m.graph, m.recipe, Stage::Grad, PipelineOptions{}, diags);
    return false;
  } catch (const UserError &) {
    return true;
  }
}

} // namespace

TEST(CheckModel, AgreesWithAutodiff) {
  const Case cases[] = {
      {"param v : f32[2, 3, 4]\n", "sum(sum(v, axis = 2))", false},
      {"param v : f32[2, 3, 4]\n", "sum(sum(v, axis = 1))", false},
      {"param v : f32[2, 3, 4]\n", "sum(sum(v, axis = 0))", true},
      {"param v : f32[3, 4]\n", "sum(sum(v, axis = 1))", true},
      {"param a : f32[2, 1, 4]\nparam v : f32[2, 3, 4]\n", "sum(a * v)", false},
      {"param a : f32[1, 4]\nparam v : f32[3, 4]\n", "sum(a * v)", true},
      {"param a : f32[3, 1]\nparam v : f32[3, 4]\n", "sum(a / v)", true},
      {"param v : f32[2, 3, 4]\n", "sum(softmax(v))", false},
      {"param v : f32[3, 4]\n", "sum(softmax(v))", true},
      {"input q : f32[2, 2]\nlabel r : real[4]\nparam v : f32[2, 2]\n",
       "mse(q * v, r)", false},
      {"input q : f32[4]\nlabel r : real[4]\nparam v : f32[4]\n",
       "mse(q * v, r)", true},
  };
  for (const Case &c : cases) {
    std::string text = std::string(kHead) + c.body +
                       "loss bce(sigmoid(x @ w), y) + " + c.term + "\n";
    Model m = parse(text);
    EXPECT_EQ(autodiffRejects(m), !c.trainable) << text;
    EXPECT_EQ(checkRejects(m), !c.trainable) << text;
  }
}

TEST(CheckModel, OffForGraphsNotFromAModel) {
  // Without opts.checkModel (.nnir input), nothing is checked.
  Model m = parse(std::string(kHead) + "loss bce(softmax(x @ w), y)\n");
  DiagEngine diags;
  EXPECT_NO_THROW(
      runPipeline(m.graph, m.recipe, Stage::Forward, PipelineOptions{}, diags));
  EXPECT_TRUE(checkRejects(m));
}
