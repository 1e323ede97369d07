//===- ErrorsTest.cpp - Every user-facing error of the frontend -----------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

/// Declarations most tests start from.
const char *kHead = "input x : f32[2]\nlabel y : binary\n";

/// Parses `text` and expects exactly one error: `msg` at line:col, `len`
/// characters long. Returns the parse for more checks.
std::unique_ptr<Parsed> oneError(const std::string &text,
                                 const std::string &msg, int line, int col,
                                 int len) {
  auto p = parseText(text);
  EXPECT_FALSE(p->model);
  auto errs = p->errors();
  EXPECT_EQ(errs.size(), 1u) << p->diags.str();
  if (!errs.empty()) {
    EXPECT_EQ(errs[0].message, msg);
    EXPECT_EQ(errs[0].loc, (SrcLoc{"m.nn", line, col, len}))
        << errs[0].loc.str() << " len " << errs[0].loc.len;
  }
  return p;
}

/// A complete model with `train { <items> }`.
std::string withTrain(const std::string &items) {
  return std::string(kHead) + "loss bce(sigmoid(x @ x), y)\ntrain {\n" + items +
         "\n}\n";
}

} // namespace

TEST(Errors, EmptyFile) {
  oneError("", "empty model: expected declarations and a 'loss'", 1, 1, 1);
  oneError("# only a comment\n\n",
           "empty model: expected declarations and a 'loss'", 1, 1, 1);
}

TEST(Errors, UnknownStatementWithSuggestion) {
  auto p = oneError("inptu x : f32[2]\nlabel y : binary\nloss bce(x, y)\n",
                    "unknown statement 'inptu'", 1, 1, 5);
  EXPECT_EQ(p->help(), "did you mean 'input'?");
  // `x` is poisoned: its use in the loss is not an error.
}

TEST(Errors, UnknownStatementWithoutSuggestion) {
  auto p = oneError(std::string(kHead) + "banana split\nloss bce(x, y)\n",
                    "unknown statement 'banana'", 3, 1, 6);
  EXPECT_NE(p->help().find("or 'name = expression'"), std::string::npos);
}

TEST(Errors, UnknownFunction) {
  auto p = oneError(std::string(kHead) + "p = sigmoidd(x)\nloss bce(p, y)\n",
                    "unknown function 'sigmoidd'", 3, 5, 8);
  EXPECT_EQ(p->help(), "did you mean 'sigmoid'?");
}

TEST(Errors, UnknownActivation) {
  auto p = oneError(std::string(kHead) +
                        "h = dense(x, 4, rellu)\nloss bce(sigmoid(h), y)\n",
                    "unknown activation 'rellu'", 3, 17, 5);
  EXPECT_EQ(p->help(), "did you mean 'relu'?");
}

TEST(Errors, UndefinedName) {
  auto p = oneError(std::string(kHead) +
                        "hidden = dense(x, 4)\nloss bce(sigmoid(hiden), y)\n",
                    "undefined name 'hiden'", 4, 18, 5);
  EXPECT_EQ(p->help(), "did you mean 'hidden'?");
}

TEST(Errors, UndefinedNameDefinedLater) {
  auto p = oneError(std::string(kHead) + "p = sigmoid(z)\nz = x @ x\n"
                                         "loss bce(p, y)\n",
                    "undefined name 'z'", 3, 13, 1);
  EXPECT_EQ(p->help(), "'z' is defined on line 4, after this use");
}

TEST(Errors, FunctionUsedAsValue) {
  auto p = oneError(std::string(kHead) + "loss bce(sigmoid, y)\n",
                    "undefined name 'sigmoid'", 3, 10, 7);
  EXPECT_EQ(p->help(), "'sigmoid' is a function; call it, as in 'sigmoid(x)'");
}

TEST(Errors, DuplicateName) {
  auto p = oneError(std::string(kHead) +
                        "p = sigmoid(x @ x)\np = relu(x)\nloss bce(p, y)\n",
                    "redefinition of 'p'", 4, 1, 1);
  const auto &ds = p->diags.diagnostics();
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[1].severity, Severity::Note);
  EXPECT_EQ(ds[1].message, "previous definition is here");
  EXPECT_EQ(ds[1].loc, (SrcLoc{"m.nn", 3, 1, 1}));
}

TEST(Errors, DuplicateDeclaration) {
  oneError("input x : f32[2]\nparam x : f32\nlabel y : binary\n"
           "loss bce(x, y)\n",
           "redefinition of 'x'", 2, 7, 1);
}

TEST(Errors, LayerSizes) {
  oneError(std::string(kHead) + "h = dense(x, 0, relu)\nloss bce(h, y)\n",
           "layer size must be a positive integer", 3, 14, 1);
  oneError(std::string(kHead) + "h = dense(x, -16)\nloss bce(h, y)\n",
           "layer size must be a positive integer", 3, 14, 3);
  oneError(std::string(kHead) + "h = dense(x, 2.5)\nloss bce(h, y)\n",
           "layer size must be a positive integer", 3, 14, 3);
}

TEST(Errors, ShapeDimensions) {
  oneError("input x : f32[0]\nlabel y : binary\nloss bce(x, y)\n",
           "dimension must be a positive integer", 1, 15, 1);
  oneError("input x : f32[3, -2]\nlabel y : binary\nloss bce(x, y)\n",
           "dimension must be a positive integer", 1, 18, 2);
  oneError("input x : f32[2]\nlabel y : class(1)\nloss bce(x, y)\n",
           "number of classes must be an integer of at least 2", 2, 17, 1);
}

TEST(Errors, UnknownTypes) {
  auto p = oneError("input x : f64[2]\nlabel y : binary\nloss bce(x, y)\n",
                    "unknown type 'f64'", 1, 11, 3);
  EXPECT_EQ(p->help(), "the element type is 'f32', as in 'f32[784]'");
  p = oneError("input x : f32[2]\nlabel y : bianry\nloss bce(x, y)\n",
               "unknown label type 'bianry'", 2, 11, 6);
  EXPECT_EQ(p->help(), "did you mean 'binary'?");
}

TEST(Errors, BatchZero) {
  oneError(withTrain("  batch 0"), "batch size must be at least 1", 5, 9, 1);
}

TEST(Errors, LearningRate) {
  oneError(withTrain("  optimizer sgd(lr = 0)"),
           "learning rate must be positive", 5, 22, 1);
  oneError(withTrain("  optimizer sgd(lr = -0.1)"),
           "learning rate must be positive", 5, 22, 4);
}

TEST(Errors, OtherTrainValues) {
  oneError(withTrain("  epochs 0"), "number of epochs must be at least 1", 5,
           10, 1);
  oneError(withTrain("  batch 6.5"), "batch size must be a whole number", 5, 9,
           3);
  oneError(withTrain("  optimizer sgd(momentum = 1)"),
           "momentum must be in [0, 1)", 5, 28, 1);
  oneError(withTrain("  l2 -1e-4"), "l2 must not be negative", 5, 6, 5);
  oneError(withTrain("  validation 1"), "validation fraction must be in [0, 1)",
           5, 14, 1);
  oneError(withTrain("  early_stop(patience = 0)"),
           "patience must be a whole number of at least 1", 5, 25, 1);
  oneError(withTrain("  shuffle maybe"), "'shuffle' takes true or false", 5, 11,
           5);
  oneError(withTrain("  batch"), "'batch' takes a number, as in 'batch 64'", 5,
           3, 5);
}

TEST(Errors, UnknownTrainSetting) {
  auto p = oneError(withTrain("  epoch 3"), "unknown train setting 'epoch'", 5,
                    3, 5);
  EXPECT_EQ(p->help(), "did you mean 'epochs'?");
}

TEST(Errors, DuplicateTrainSetting) {
  auto p = oneError(withTrain("  batch 4\n  batch 8"), "'batch' is set twice",
                    6, 3, 5);
  EXPECT_EQ(p->diags.diagnostics()[1].message, "first set here");
}

TEST(Errors, DataSources) {
  auto p = oneError(withTrain("  data cvs(\"a.csv\")"),
                    "unknown data format 'cvs'", 5, 8, 3);
  EXPECT_EQ(p->help(), "did you mean 'csv'?");
  oneError(withTrain("  data idx(\"a\", label = \"y\")"),
           "unknown argument 'label' for 'idx'", 5, 17, 5);
  oneError(withTrain("  data csv(path)"),
           "expected a file path in quotes, as in csv(\"data.csv\")", 5, 12, 4);
  oneError(withTrain("  test csv(\"\")"), "empty file path", 5, 12, 2);
  p = oneError(withTrain("  optimizer sgd(lrr = 0.1)"),
               "unknown argument 'lrr' for 'sgd'", 5, 17, 3);
  EXPECT_EQ(p->help(), "did you mean 'lr'?");
  p = oneError(withTrain("  optimizer rmsprop(lr = 0.1)"),
               "unknown optimizer 'rmsprop'", 5, 13, 7);
}

TEST(Errors, MissingLoss) {
  auto p = oneError("model m\ninput x : f32[2]\n",
                    "model 'm' has no 'loss' statement", 1, 1, 5);
  EXPECT_EQ(p->help(), "add one, e.g. 'loss bce(sigmoid(z), y)'");
}

TEST(Errors, TwoLosses) {
  auto p = oneError(std::string(kHead) + "loss bce(x, y)\nloss mse(x, y)\n",
                    "a model has exactly one 'loss' statement", 4, 1, 4);
  EXPECT_EQ(p->diags.diagnostics()[1].loc.line, 3);
}

TEST(Errors, LossWithoutLossFunction) {
  oneError(std::string(kHead) + "loss mean(x)\n",
           "the loss must call a loss function: bce, bce_logits, "
           "cross_entropy, softmax_cross_entropy or mse",
           3, 1, 4);
}

TEST(Errors, LossFunctionOutsideLoss) {
  oneError(std::string(kHead) + "l = bce(x, y)\nloss l\n",
           "'bce' is a loss function; use it in the 'loss' statement", 3, 5, 3);
}

TEST(Errors, InitializerCounts) {
  oneError(std::string(kHead) + "param w : f32[3] = [1, 2]\nloss bce(w, y)\n",
           "initializer has 2 values but f32[3] needs 3", 3, 20, 6);
  oneError(std::string(kHead) +
               "param w : f32[2, 2] = [[1, 2], [3]]\nloss bce(w, y)\n",
           "expected 2 values in this list, got 1", 3, 32, 3);
  oneError(std::string(kHead) +
               "param w : f32[2, 2] = [[1, 2], [3, 4], [5, 6]]\n"
               "loss bce(w, y)\n",
           "initializer has 3 values but f32[2,2] needs 2 rows", 3, 23, 24);
  auto p =
      oneError(std::string(kHead) + "param w : f32[2] = 0.5\nloss bce(w, y)\n",
               "initializer has 1 value but f32[2] needs 2", 3, 20, 3);
  EXPECT_EQ(p->help(), "write 'constant(0.5)' to give every element that "
                       "value");
  oneError(std::string(kHead) + "param w : f32[2] = [1, x]\nloss bce(w, y)\n",
           "expected a number", 3, 24, 1);
}

TEST(Errors, BadInitializers) {
  auto p = oneError(std::string(kHead) +
                        "param w : f32[2] = xaviar\nloss bce(w, y)\n",
                    "unknown initializer 'xaviar'", 3, 20, 6);
  EXPECT_EQ(p->help(), "did you mean 'xavier'?");
  oneError(std::string(kHead) +
               "param w : f32[2] = uniform(1, -1)\nloss bce(w, y)\n",
           "uniform needs low < high", 3, 20, 7);
  oneError(std::string(kHead) +
               "param w : f32[2] = normal(0, 0)\nloss bce(w, y)\n",
           "standard deviation must be positive", 3, 30, 1);
  oneError(std::string(kHead) + "param w : f32[2] = uniform\nloss bce(w, y)\n",
           "'uniform' needs bounds, as in 'uniform(-0.1, 0.1)'", 3, 20, 7);
  oneError(std::string(kHead) +
               "param w : f32[2] = constant(1, 2)\nloss bce(w, y)\n",
           "'constant' takes 1 argument, got 2", 3, 20, 8);
}

TEST(Errors, UnterminatedString) {
  oneError(withTrain("  data csv(\"data.csv)"), "unterminated string", 5, 12,
           1);
}

TEST(Errors, UnexpectedCharacter) {
  // One error: the statement with the bad character is dropped quietly and
  // `z` is poisoned, so the loss does not report it.
  oneError(std::string(kHead) + "z = x $ x\nloss bce(z, y)\n",
           "unexpected character '$'", 3, 7, 1);
}

TEST(Errors, DenseRules) {
  oneError(std::string(kHead) + "loss bce(dense(x, 1), y)\n",
           "'dense' creates a layer and must be bound to a name, as in "
           "'fc1 = dense(x, 128, relu)'",
           3, 10, 5);
  oneError(std::string(kHead) +
               "param w : f32[3]\nh = dense(x + w, 3)\nloss bce(h, y)\n",
           "cannot tell the width of the input of 'dense'", 4, 13, 1);
  oneError("input x : f32[4, 4]\nlabel y : binary\nh = dense(x, 3)\n"
           "loss bce(h, y)\n",
           "'dense' expects a batch of vectors f32[N,k], but its input has "
           "type f32[N,4,4]: flatten it first",
           3, 11, 1);
  oneError(std::string(kHead) + "h = dense(x)\nloss bce(h, y)\n",
           "'dense' takes an input, a size and an optional activation, as in "
           "'dense(x, 128, relu)'",
           3, 5, 5);
}

TEST(Errors, SyntaxErrorsPointPastTheLastToken) {
  oneError(std::string(kHead) + "h = dense(x, 4\nloss bce(h, y)\n",
           "expected ',' or ')' in the argument list", 3, 15, 1);
  oneError(std::string(kHead) + "h = x +\n\nloss bce(h, y)\n",
           "expected an expression", 3, 8, 1);
  oneError(std::string(kHead) + "loss bce(x, y) y\n",
           "expected end of line after statement", 3, 16, 1);
  oneError(std::string(kHead) + "loss = bce(x, y)\n",
           "unexpected '=' after 'loss': write 'loss bce(p, y)'", 3, 6, 1);
  oneError(std::string(kHead) + "input : f32\nloss bce(x, y)\n",
           "expected a name after 'input'", 3, 7, 1);
}

TEST(Errors, UnclosedTrainBlock) {
  auto p = oneError(std::string(kHead) + "loss bce(x, y)\ntrain {\n  batch 4\n",
                    "expected '}' at the end of the train block", 5, 10, 1);
  EXPECT_EQ(p->diags.diagnostics()[1].message, "the train block opens here");
}

TEST(Errors, ModelMustComeFirst) {
  oneError(std::string(kHead) + "model m\nloss bce(x, y)\n",
           "'model' must be the first statement", 3, 1, 5);
}

TEST(Errors, SeveralErrorsAllReportedInOrder) {
  auto p = parseText("input x : f32[2]\n"
                     "label y : binary\n"
                     "h = dense(x, 0)\n"     // size
                     "p = sigmoid(h) $\n"    // lexer, reported in order
                     "q = tanh(qq)\n"        // undefined
                     "r = relu(h) + p + q\n" // poisoned names: silent
                     "loss bce(r, y)\n"
                     "train {\n  batch 0   epochs 0\n  l2 -1\n}\n");
  EXPECT_FALSE(p->model);
  auto errs = p->errors();
  ASSERT_EQ(errs.size(), 6u) << p->diags.str();
  EXPECT_EQ(errs[0].loc.line, 3);
  EXPECT_EQ(errs[1].message, "unexpected character '$'");
  EXPECT_EQ(errs[2].message, "undefined name 'qq'");
  EXPECT_EQ(errs[3].message, "batch size must be at least 1");
  EXPECT_EQ(errs[4].message, "number of epochs must be at least 1");
  EXPECT_EQ(errs[5].message, "l2 must not be negative");
  EXPECT_EQ(p->diags.errorCount(), 6);
}

TEST(Errors, RenderedWithCaret) {
  auto p = parseText(std::string(kHead) +
                     "h = dense(x, 4, rellu)\nloss bce(sigmoid(h), y)\n");
  EXPECT_EQ(p->diags.str(), "m.nn:3:17: error: unknown activation 'rellu'\n"
                            "  h = dense(x, 4, rellu)\n"
                            "                  ^~~~~\n"
                            "m.nn:3:17: help: did you mean 'relu'?\n"
                            "1 error generated.\n");
}

TEST(Errors, ErrorsAreCapped) {
  std::string text = kHead;
  for (int i = 0; i < 30; ++i)
    text += "h" + std::to_string(i) + " = dense(x, 0)\n";
  text += "loss bce(x, y)\n";
  auto p = parseText(text);
  EXPECT_EQ(p->diags.errorCount(), 30);
  EXPECT_EQ(p->errors().size(), static_cast<size_t>(p->diags.maxErrors));
}
