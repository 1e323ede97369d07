//===- ResumeTest.cpp - Checkpoints of changed models; honest figures -----===//
///
/// \file
/// The graph fingerprint checkpoints carry (runtime/Resume.h): the same model
/// gives the same lines whatever its comments; a changed activation is
/// refused naming the node and its source location; a changed learning rate
/// is a note. After early stopping restores the best epoch's weights, the
/// result's figures are that epoch's (issue 12).
///
//===----------------------------------------------------------------------===//
#include "FaultTestUtil.h"

#include "ir/Support.h"
#include "runtime/Resume.h"

#include <sstream>

namespace nn {
namespace {

std::string model(const std::string &act, const std::string &comment = "") {
  return "model m\ninput x : f32[2]\nlabel y : binary\n" + comment +
         "hidden = dense(x, 4, " + act + ")\nout = dense(hidden, 1)\n"
         "loss bce(sigmoid(out), y)\n";
}

test::Compiled compiled(const std::string &text, double lr = 0.5) {
  return test::compileModel(text, [&](Recipe &r) { r.optimizer.lr = lr; });
}

TEST(Resume, FingerprintIgnoresCommentsAndLocations) {
  test::Compiled a = compiled(model("tanh"));
  test::Compiled b = compiled(model("tanh", "# a comment\n\n"));
  EXPECT_EQ(graphFingerprint(a.eval), graphFingerprint(b.eval));
  std::ostringstream log;
  EXPECT_NO_THROW(checkResumeIdentity(checkpointIdentity(a.eval, a.recipe),
                                      "ck", b.eval, b.recipe, &log));
  EXPECT_EQ(log.str(), "");
}

TEST(Resume, ChangedActivationIsRefusedNamingTheNode) {
  test::Compiled a = compiled(model("tanh"));
  test::Compiled b = compiled(model("relu"));
  try {
    checkResumeIdentity(checkpointIdentity(a.eval, a.recipe), "ck", b.eval,
                        b.recipe, nullptr);
    FAIL() << "a changed model was accepted";
  } catch (const UserError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("ck: error: model 'm' has changed since this "
                       "checkpoint was written"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("was 'tanh("), std::string::npos) << msg;
    EXPECT_NE(msg.find("now 'relu("), std::string::npos) << msg;
    EXPECT_NE(msg.find("at m.nn:4:"), std::string::npos) << msg;
  }
}

TEST(Resume, ChangedLearningRateIsANote) {
  test::Compiled a = compiled(model("tanh"), 0.5);
  test::Compiled b = compiled(model("tanh"), 0.25);
  std::ostringstream log;
  checkResumeIdentity(checkpointIdentity(a.eval, a.recipe), "ck", b.eval,
                      b.recipe, &log);
  EXPECT_NE(log.str().find("note: resuming with learning rate 0.25; the "
                           "checkpoint was trained with 0.5"),
            std::string::npos)
      << log.str();
}

TEST(Resume, OlderCheckpointsWithoutAGraphAreNotChecked) {
  test::Compiled b = compiled(model("relu"));
  EXPECT_NO_THROW(checkResumeIdentity({{"format", "nnc-checkpoint-1"}}, "ck",
                                      b.eval, b.recipe, nullptr));
}

TEST(EarlyStopFigures, AreThoseOfTheRestoredEpoch) {
  test::Compiled c = test::compileModel(model("tanh"), [](Recipe &r) {
    r.batch = 2;
    r.epochs = 20;
    r.seed = 3;
    r.validation = 0.5;
    r.earlyStop.enabled = true;
    r.earlyStop.patience = 2;
    r.earlyStop.minDelta = 100; // only epoch 1 improves
  });
  Dataset d;
  d.x = Tensor({8, 2});
  d.x.data = {0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1};
  d.y = Tensor({8});
  d.y.data = {0, 1, 1, 0, 0, 1, 1, 0};
  d.source = "xor";
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  TrainResult r = t.train(initState(c.step, c.recipe.seed), d, opts);
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_EQ(r.bestEpoch, 1);
  EXPECT_NE(r.history[0].validation.loss, r.history[2].validation.loss);
  EXPECT_EQ(r.validation.loss, r.history[0].validation.loss);
  EXPECT_EQ(r.validation.accuracy, r.history[0].validation.accuracy);
  EXPECT_EQ(r.train.loss, r.history[0].train.loss);
  EXPECT_EQ(r.epochs, 3);
  // And they are what the returned weights score on the held-out rows.
  auto split = splitValidation(d.size(), c.recipe.validation, c.recipe.seed);
  Metrics again = t.evaluate(r.state, selectRows(d, split.second), "interp");
  EXPECT_EQ(again.loss, r.validation.loss);
}

} // namespace
} // namespace nn
