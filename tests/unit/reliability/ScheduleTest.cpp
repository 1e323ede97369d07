//===- ScheduleTest.cpp - The lr as a runtime scalar, schedules -----------===//
///
/// \file
/// The learning rate is the State leaf "optimizer.lr": its first value is
/// the recipe's lr, each executor takes a new value through setScalar with
/// no recompilation, and the trainer writes the schedule's value (the closed
/// forms of PyTorch's StepLR, CosineAnnealingLR and a linear warm-up) before
/// each step, so a run interrupted after every step and resumed each time
/// ends bit for bit where the straight run does. PyTorch itself is the
/// oracle in tests/e2e/pytorch_schedules.sh.
///
//===----------------------------------------------------------------------===//
#include "FaultTestUtil.h"

#include "passes/optim/Optimizer.h"
#include "runtime/Executor.h"
#include "runtime/LrSchedule.h"
#include "runtime/Safetensors.h"
#include "runtime/Signals.h"

#include <cmath>
#include <csignal>
#include <numbers>

namespace nn {
namespace {

using test::Compiled;

Recipe recipe(double lr, Schedule s) {
  Recipe r;
  r.optimizer.lr = lr;
  r.schedule = s;
  return r;
}

Schedule stepDecay(int64_t every, double gamma, int64_t warmup = 0) {
  Schedule s;
  s.kind = Schedule::Kind::Step;
  s.every = every;
  s.gamma = gamma;
  s.warmupSteps = warmup;
  return s;
}

Schedule cosine(int64_t epochs, double minLr, int64_t warmup = 0) {
  Schedule s;
  s.kind = Schedule::Kind::Cosine;
  s.epochs = epochs;
  s.minLr = minLr;
  s.warmupSteps = warmup;
  return s;
}

TEST(LrSchedule, ConstantIsTheOptimizersLr) {
  Recipe r = recipe(0.05, {});
  EXPECT_FALSE(hasSchedule(r));
  for (int64_t step : {0, 1, 1000})
    EXPECT_EQ(scheduledLr(r, step, step / 10), 0.05);
}

TEST(LrSchedule, StepLRPerEpoch) {
  Recipe r = recipe(0.1, stepDecay(2, 0.5));
  EXPECT_TRUE(hasSchedule(r));
  const double want[] = {0.1, 0.1, 0.05, 0.05, 0.025};
  for (int64_t e = 0; e < 5; ++e) // the step within the epoch does not count
    EXPECT_DOUBLE_EQ(scheduledLr(r, 100 * e + 7, e), want[e]) << e;
}

TEST(LrSchedule, CosineAnnealingLRPerEpochRisesAgainPastTMax) {
  Recipe r = recipe(0.1, cosine(4, 0.01));
  EXPECT_DOUBLE_EQ(scheduledLr(r, 0, 0), 0.1);
  EXPECT_DOUBLE_EQ(scheduledLr(r, 9, 2), 0.055);
  EXPECT_DOUBLE_EQ(scheduledLr(r, 9, 4), 0.01);
  double one = 0.01 + 0.09 * (1 + std::cos(std::numbers::pi / 4)) / 2;
  EXPECT_DOUBLE_EQ(scheduledLr(r, 9, 1), one);
  EXPECT_DOUBLE_EQ(scheduledLr(r, 9, 5), scheduledLr(r, 9, 3)); // as PyTorch
}

TEST(LrSchedule, WarmupPerStepTimesTheDecay) {
  Schedule w;
  w.warmupSteps = 4;
  Recipe r = recipe(0.2, w);
  EXPECT_TRUE(hasSchedule(r));
  const double want[] = {0.05, 0.1, 0.15, 0.2, 0.2, 0.2};
  for (int64_t s = 0; s < 6; ++s)
    EXPECT_DOUBLE_EQ(scheduledLr(r, s, 0), want[s]) << s;
  Recipe both = recipe(0.2, stepDecay(1, 0.5, 4));
  EXPECT_DOUBLE_EQ(scheduledLr(both, 1, 0), 0.1);
  EXPECT_DOUBLE_EQ(scheduledLr(both, 1, 1), 0.05); // both factors
  EXPECT_DOUBLE_EQ(scheduledLr(both, 8, 2), 0.05);
}

/// One SGD step (no momentum) of the xor network on `backend`, from the
/// same state, with lr written through setScalar: returns w' - w of a weight.
std::vector<float> delta(const std::string &backend, const Compiled &c,
                         double lr) {
  std::unique_ptr<Executor> ex = makeExecutor(backend, c.step);
  TensorMap init = initState(c.step, 7);
  ex->setState(init);
  ex->run(bindBatch(c.step, test::xorData().x, test::xorData().y));
  ex->setState(init); // compiled once; the lr changes the next step only
  ex->setScalar(kLrLeaf, lr);
  ex->run(bindBatch(c.step, test::xorData().x, test::xorData().y));
  const Tensor &before = init.at("hidden.weight");
  const Tensor &after = ex->state().at("hidden.weight");
  std::vector<float> d;
  for (int64_t i = 0; i < before.numel(); ++i)
    d.push_back(after[i] - before[i]);
  EXPECT_EQ(ex->state().at(kLrLeaf)[0], static_cast<float>(lr)) << backend;
  return d;
}

TEST(LrLeaf, IsAStateLeafHoldingTheRecipesLr) {
  Compiled c = test::compileModel(test::kXor, [](Recipe &r) {
    r.batch = 4;
    r.optimizer.lr = 0.25;
  });
  std::optional<NodeId> lr = c.step.findLeaf(OpKind::State, kLrLeaf);
  ASSERT_TRUE(lr);
  EXPECT_TRUE(c.step[*lr].type.isScalar());
  TensorMap init = initState(c.step, 7);
  EXPECT_EQ(init.at(kLrLeaf).data, std::vector<float>{0.25f});
}

TEST(LrLeaf, SetScalarScalesTheStepOnEveryBackend) {
  Compiled c = test::compileModel(test::kXor, [](Recipe &r) { r.batch = 4; });
  std::vector<std::string> backends = {"interp"};
  for (const std::string &b : backendNames())
    if (b == "cpu")
      backends.push_back(b);
  for (const std::string &b : backends) {
    std::vector<float> zero = delta(b, c, 0.0), one = delta(b, c, 0.5),
                       two = delta(b, c, 1.0);
    for (size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(zero[i], 0.0f) << b << " " << i;
      EXPECT_NEAR(two[i], 2 * one[i], 1e-5 + 1e-5 * std::fabs(two[i]))
          << b << " " << i;
    }
    EXPECT_NE(one[0], 0.0f) << b;
  }
}

struct ScheduleRun : ::testing::Test {
  void TearDown() override { clearInterrupt(); }
  test::ScratchDir tmp;
};

Compiled scheduledXor(Schedule s) {
  return test::compileModel(test::kXor, [&](Recipe &r) {
    r.batch = 3; // 2 batches an epoch, one partial
    r.epochs = 4;
    r.seed = 7;
    r.optimizer.lr = 0.5;
    r.optimizer.momentum = 0.9;
    r.schedule = s;
  });
}

TEST_F(ScheduleRun, ResumedAfterEveryStepIsBitIdentical) {
  for (const std::string &backend : backendNames()) {
    if (backend == "cuda")
      continue; // no device in the unit tests
    Compiled c = scheduledXor(cosine(3, 0.05, 3));
    Trainer t(c.step, c.eval, c.recipe);
    TensorMap init = initState(c.step, c.recipe.seed);
    TrainOptions opts;
    opts.backend = backend;
    TrainResult straight = t.train(init, test::xorData(), opts);
    ASSERT_EQ(straight.steps, 8);
    // The lr leaf holds the last step's scheduled lr.
    EXPECT_EQ(straight.state.at(kLrLeaf)[0],
              static_cast<float>(scheduledLr(c.recipe, 7, 3)));
    ASSERT_EQ(straight.history.size(), 4u);
    for (int64_t e = 0; e < 4; ++e)
      EXPECT_EQ(straight.history[e].lr, scheduledLr(c.recipe, 2 * e + 1, e));

    opts.checkpointPath = tmp.path(backend + ".safetensors");
    TrainResult r;
    for (int runs = 0; runs < 20; ++runs) {
      requestInterrupt(SIGINT);
      r = t.train(init, test::xorData(), opts);
      if (!r.interrupted)
        break;
      opts.resumePath = opts.checkpointPath;
    }
    clearInterrupt();
    EXPECT_EQ(r.steps, 8) << backend;
    EXPECT_TRUE(test::sameBits(r.state, straight.state)) << backend;
  }
}

TEST_F(ScheduleRun, TheScheduleChangesTraining) {
  Compiled flat = scheduledXor({}), decayed = scheduledXor(stepDecay(1, 0.1));
  TensorMap init = initState(flat.step, 7);
  TrainResult a = Trainer(flat.step, flat.eval, flat.recipe)
                      .train(init, test::xorData(), {});
  TrainResult b = Trainer(decayed.step, decayed.eval, decayed.recipe)
                      .train(init, test::xorData(), {});
  EXPECT_FALSE(test::sameBits(a.state, b.state));
  EXPECT_EQ(a.history.back().lr, 0.5);
  EXPECT_DOUBLE_EQ(b.history.back().lr, 0.5 * 0.001);
}

TEST_F(ScheduleRun, ResumeUsesTheRecipesLrNotTheCheckpoints) {
  // A checkpoint holds the lr leaf; the run resumed with another lr (--lr)
  // trains with the new one, as it did before the lr became a leaf.
  Compiled c = scheduledXor({});
  TensorMap init = initState(c.step, 7);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  opts.maxSteps = 2;
  Trainer(c.step, c.eval, c.recipe).train(init, test::xorData(), opts);
  Compiled slower = test::compileModel(test::kXor, [&](Recipe &r) {
    r = c.recipe;
    r.optimizer.lr = 0.125;
  });
  opts.resumePath = opts.checkpointPath;
  opts.maxSteps = 3;
  TrainResult r = Trainer(slower.step, slower.eval, slower.recipe)
                      .train(init, test::xorData(), opts);
  EXPECT_EQ(r.state.at(kLrLeaf)[0], 0.125f);
}

TEST_F(ScheduleRun, CheckpointsFromBeforeTheLrLeafResume) {
  // A checkpoint of SGD with momentum written before the lr became a state
  // leaf has no "optimizer.lr": it resumes, the lr taken from the recipe.
  Compiled c = scheduledXor(stepDecay(1, 0.5));
  TensorMap init = initState(c.step, 7);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("old.safetensors");
  opts.maxSteps = 3;
  Trainer t(c.step, c.eval, c.recipe);
  t.train(init, test::xorData(), opts);
  SafetensorsFile f = readSafetensors(opts.checkpointPath);
  ASSERT_EQ(f.tensors.erase(kLrLeaf), 1u);
  f.metadata.erase(kCrc32Key);
  writeSafetensors(opts.checkpointPath, f.tensors, f.metadata);
  opts.resumePath = opts.checkpointPath;
  opts.maxSteps = -1;
  TrainResult r = t.train(init, test::xorData(), opts);
  EXPECT_EQ(r.steps, 8);
  EXPECT_EQ(r.state.at(kLrLeaf)[0],
            static_cast<float>(scheduledLr(c.recipe, 7, 3)));
}

} // namespace
} // namespace nn
