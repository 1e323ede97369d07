//===- TrainEventsTest.cpp - What the trainer tells its observer ----------===//
///
/// \file
/// The trainer draws nothing: every epoch, step, checkpoint, early stop,
/// --steps stop and interrupt reaches the TrainObserver, in order, with the
/// figures the result holds. Also: the executors' shared setState checks and
/// the options makeExecutor passes on.
///
//===----------------------------------------------------------------------===//
#include "FaultTestUtil.h"

#include "ir/Support.h"
#include "runtime/Executor.h"
#include "runtime/LeafChecks.h"
#include "runtime/Signals.h"
#include "runtime/TrainEvents.h"

#include <cmath>
#include <csignal>

namespace nn {
namespace {

using test::Compiled;
using test::kXor;
using test::ScratchDir;
using test::xorData;
using test::xorModel;

/// Every event as one short line.
struct Recorder : TrainObserver {
  std::vector<std::string> events;
  std::vector<BatchDone> batches;
  std::vector<EpochStats> epochs;
  StopPoint stop;
  void warning(const std::string &text) override {
    events.push_back("warning " + text);
  }
  void compileStarted(const std::string &what) override {
    events.push_back("compile " + what);
  }
  void compileFinished(double seconds) override {
    events.push_back(seconds >= 0 ? "compiled" : "bad compile time");
  }
  void trainingStarted(const TrainPlan &p) override {
    events.push_back("start " + std::to_string(p.epochs) + "x" +
                     std::to_string(p.batchesPerEpoch) +
                     (p.realLabels ? " real" : "") +
                     (p.validation ? " validation" : ""));
  }
  void epochStarted(int64_t e) override {
    events.push_back("epoch " + std::to_string(e));
  }
  void batchDone(const BatchDone &b) override { batches.push_back(b); }
  void epochDone(const EpochStats &st) override {
    epochs.push_back(st);
    events.push_back("done " + std::to_string(st.epoch));
  }
  void stoppedEarly(int64_t best, int64_t bad) override {
    events.push_back("early " + std::to_string(best) + " " +
                     std::to_string(bad));
  }
  void checkpointWritten(const std::string &path) override {
    events.push_back("checkpoint");
  }
  void stoppedBySteps(const StopPoint &at) override {
    stop = at;
    events.push_back("steps");
  }
  void interrupted(int signal, const StopPoint &at,
                   const std::string &path) override {
    stop = at;
    events.push_back("interrupted " + std::to_string(signal));
  }
  void restoredBest(int64_t e) override {
    events.push_back("restored " + std::to_string(e));
  }
  void stepFailed() override { events.push_back("failed"); }
};

struct TrainEventsTest : ::testing::Test {
  void TearDown() override { clearInterrupt(); }
  ScratchDir tmp;
};

TEST_F(TrainEventsTest, EpochsStepsAndCheckpointsInOrder) {
  Compiled c = xorModel(/*batch=*/3, /*epochs=*/2); // 2 batches an epoch
  Trainer t(c.step, c.eval, c.recipe);
  Recorder rec;
  TrainOptions opts;
  opts.observer = &rec;
  opts.checkpointPath = tmp.path("ck.safetensors");
  TrainResult r = t.train(initState(c.step, 7), xorData(), opts);
  std::vector<std::string> want = {"compile compiling xor for interp",
                                   "compiled",
                                   "start 2x2",
                                   "epoch 1",
                                   "done 1",
                                   "checkpoint",
                                   "epoch 2",
                                   "done 2",
                                   "checkpoint"};
  EXPECT_EQ(rec.events, want);
  ASSERT_EQ(rec.batches.size(), 4u);
  EXPECT_EQ(rec.batches[1].epoch, 1);
  EXPECT_EQ(rec.batches[1].batch, 2);
  EXPECT_EQ(rec.batches[1].batches, 2);
  EXPECT_EQ(rec.batches[3].epochs, 2);
  EXPECT_TRUE(std::isnan(rec.batches[0].samplesPerSec)) << "one step: no rate";
  EXPECT_FALSE(std::isnan(rec.batches[1].samplesPerSec));
  // The last batch's running mean is the epoch's training loss.
  ASSERT_EQ(rec.epochs.size(), 2u);
  EXPECT_EQ(rec.batches[3].loss, rec.epochs[1].train.loss);
  EXPECT_EQ(rec.epochs[1].train.loss, r.history[1].train.loss);
  EXPECT_EQ(rec.epochs[1].steps, 4);
}

TEST_F(TrainEventsTest, StepsStopSaysWhereItStopped) {
  Compiled c = xorModel(/*batch=*/1, /*epochs=*/3); // 4 batches an epoch
  Trainer t(c.step, c.eval, c.recipe);
  Recorder rec;
  TrainOptions opts;
  opts.observer = &rec;
  opts.maxSteps = 6;
  TrainResult r = t.train(initState(c.step, 7), xorData(), opts);
  EXPECT_EQ(rec.events.back(), "steps");
  EXPECT_EQ(rec.stop.step, 6);
  EXPECT_EQ(rec.stop.epoch, 2);
  EXPECT_EQ(rec.stop.batch, 2);
  EXPECT_EQ(rec.stop.batches, 4);
  EXPECT_EQ(rec.stop.train.samples, 2);
  EXPECT_EQ(rec.stop.train.loss, r.train.loss);
  EXPECT_EQ(rec.stop.train.accuracy, r.train.accuracy);
}

TEST_F(TrainEventsTest, InterruptIsToldWithItsSignalAndCheckpoint) {
  Compiled c = xorModel(2, 3);
  Trainer t(c.step, c.eval, c.recipe);
  Recorder rec;
  TrainOptions opts;
  opts.observer = &rec;
  opts.interruptPath = tmp.path("m.interrupted.safetensors");
  requestInterrupt(SIGTERM);
  TrainResult r = t.train(initState(c.step, 7), xorData(), opts);
  ASSERT_TRUE(r.interrupted);
  ASSERT_GE(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[rec.events.size() - 2], "checkpoint");
  EXPECT_EQ(rec.events.back(), "interrupted " + std::to_string(SIGTERM));
  EXPECT_EQ(rec.stop.step, 1);
  EXPECT_EQ(rec.stop.epoch, 1);
  EXPECT_EQ(rec.stop.batch, 1);
}

TEST_F(TrainEventsTest, EarlyStopThenRestoredBest) {
  Compiled c = test::compileModel(kXor, [](Recipe &r) {
    r.batch = 4;
    r.epochs = 10;
    r.seed = 7;
    r.earlyStop.enabled = true;
    r.earlyStop.patience = 2;
    r.earlyStop.minDelta = 100; // only epoch 1 improves
    r.earlyStop.restoreBest = true;
  });
  Trainer t(c.step, c.eval, c.recipe);
  Recorder rec;
  TrainOptions opts;
  opts.observer = &rec;
  TrainResult r = t.train(initState(c.step, 7), xorData(), opts);
  EXPECT_TRUE(r.stoppedEarly);
  std::vector<std::string> tail(rec.events.end() - 3, rec.events.end());
  std::vector<std::string> want = {"done 3", "early 1 2", "restored 1"};
  EXPECT_EQ(tail, want);
}

TEST_F(TrainEventsTest, ResumedPastTheEndWarnsTheObserver) {
  Compiled c = xorModel(2, 2);
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  t.train(initState(c.step, 7), xorData(), opts);
  Recorder rec;
  opts.observer = &rec;
  opts.resumePath = opts.checkpointPath;
  t.train(initState(c.step, 7), xorData(), opts);
  ASSERT_FALSE(rec.events.empty());
  std::string warning;
  for (const std::string &e : rec.events)
    if (e.rfind("warning ", 0) == 0)
      warning = e;
  EXPECT_NE(warning.find("has done 2 epochs already"), std::string::npos)
      << warning;
}

TEST_F(TrainEventsTest, NonFiniteStepIsToldBeforeTheError) {
  Compiled c = xorModel(4, 1);
  Trainer t(c.step, c.eval, c.recipe);
  Dataset d = xorData();
  d.x.data[0] = std::nanf("");
  Recorder rec;
  TrainOptions opts;
  opts.observer = &rec;
  EXPECT_THROW(t.train(initState(c.step, 7), d, opts), UserError);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(rec.events.back(), "failed");
}

// The executors share their setState checks (runtime/LeafChecks.h): a
// missing leaf, a wrong shape, and a value whose size does not fit its
// shape are internal errors on every backend, the interpreter's included.
TEST(StateChecks, EveryBackendRefusesAStateThatDoesNotFit) {
  Compiled c = xorModel(4, 1);
  for (const std::string &backend : backendNames()) {
    if (backend == "cuda")
      continue; // needs a device to make one
    std::unique_ptr<Executor> ex = makeExecutor(backend, c.step);
    TensorMap good = initState(c.step, 7);
    EXPECT_NO_THROW(ex->setState(good)) << backend;
    TensorMap missing = good;
    missing.erase(missing.begin());
    EXPECT_THROW(ex->setState(missing), InternalError) << backend;
    TensorMap shape = good;
    shape.begin()->second.shape.push_back(1);
    EXPECT_THROW(ex->setState(shape), InternalError) << backend;
    TensorMap size = good;
    size.begin()->second.data.push_back(0);
    EXPECT_THROW(ex->setState(size), InternalError) << backend;
  }
}

TEST(StateChecks, CheckStateLeavesNamesTheLeaf) {
  Compiled c = xorModel(4, 1);
  TensorMap s = initState(c.step, 7);
  std::string name = s.begin()->first;
  s.erase(s.begin());
  try {
    checkStateLeaves(c.step, s);
    FAIL() << "no error";
  } catch (const InternalError &e) {
    EXPECT_NE(std::string(e.what()).find("no value for '" + name + "'"),
              std::string::npos)
        << e.what();
  }
}

#ifdef NNC_HAVE_CPU_BACKEND
// makeExecutor hands the cpu backend its options: a kernel broken on
// purpose through them fails to compile.
TEST(ExecutorOptionsTest, MakeExecutorPassesTheCpuOptions) {
  Compiled c = xorModel(4, 1);
  ExecutorOptions o;
  o.cpu.noCache = true;
  o.cpu.corruptKernelForTest = *c.eval.output("loss");
  std::unique_ptr<Executor> ex = makeExecutor("cpu", c.eval, o);
  ex->setState(initState(c.eval, 7));
  EXPECT_THROW(ex->prepare(4), InternalError);
  o.cpu.corruptKernelForTest = -1;
  std::unique_ptr<Executor> fine = makeExecutor("cpu", c.eval, o);
  fine->setState(initState(c.eval, 7));
  EXPECT_NO_THROW(fine->prepare(4));
}
#endif

} // namespace
} // namespace nn
