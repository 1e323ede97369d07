//===- TrainerFaultsTest.cpp - Faults the training loop survives ----------===//
///
/// \file
/// Interrupts (the SIGINT/SIGTERM flag) resumed bit for bit, a corrupt
/// checkpoint with its .prev offered, a write error that keeps the old
/// checkpoint, NaN and infinities named by op, and awkward data set sizes.
///
//===----------------------------------------------------------------------===//
#include "FaultTestUtil.h"

#include "ir/Support.h"
#include "runtime/Executor.h"
#include "runtime/Safetensors.h"
#include "runtime/Signals.h"

#include <cmath>
#include <csignal>
#include <sys/resource.h>

namespace nn {
namespace {

using test::Compiled;
using test::kXor;
using test::ScratchDir;
using test::xorData;
using test::xorModel;

struct FaultsTest : ::testing::Test {
  void TearDown() override { clearInterrupt(); }
  ScratchDir tmp;
};

TEST_F(FaultsTest, InterruptEveryStepThenResumeIsBitIdentical) {
  Compiled c = xorModel(/*batch=*/3, /*epochs=*/4); // 2 batches, one partial
  Trainer t(c.step, c.eval, c.recipe);
  TensorMap init = initState(c.step, c.recipe.seed);
  TrainResult straight = t.train(init, xorData(), {});
  ASSERT_EQ(straight.steps, 8);

  // Interrupt after every single step (as a signal mid-step would: the step
  // finishes first), resuming each time from the checkpoint.
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  TrainResult r;
  int runs = 0;
  for (; runs < 20; ++runs) {
    requestInterrupt(SIGINT);
    r = t.train(init, xorData(), opts);
    if (!r.interrupted)
      break;
    EXPECT_EQ(r.interruptCheckpoint, opts.checkpointPath);
    EXPECT_FALSE(interruptRequested()) << "the trainer clears the flag";
    opts.resumePath = opts.checkpointPath;
  }
  clearInterrupt();
  // One interrupted run per step, one more at each epoch boundary (the
  // flag set before a run that resumes at an epoch's end stops it right
  // after that epoch's checkpoint), then one to finish.
  EXPECT_EQ(runs, 8 + 3);
  EXPECT_EQ(r.steps, 8);
  EXPECT_TRUE(test::sameBits(r.state, straight.state));
}

TEST_F(FaultsTest, InterruptWithoutCheckpointFlagUsesTheInterruptPath) {
  Compiled c = xorModel(2, 3);
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  opts.interruptPath = tmp.path("m.interrupted.safetensors");
  requestInterrupt(SIGTERM);
  TrainResult r = t.train(initState(c.step, 7), xorData(), opts);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.steps, 1);
  EXPECT_EQ(r.interruptCheckpoint, opts.interruptPath);
  SafetensorsFile f = readSafetensors(opts.interruptPath);
  EXPECT_EQ(f.metadata.at("step"), "1");
  EXPECT_EQ(f.metadata.at("batch"), "1");
}

TEST_F(FaultsTest, CorruptCheckpointIsNamedAndPrevOffered) {
  Compiled c = xorModel(2, 2);
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  t.train(initState(c.step, 7), xorData(), opts);
  // Two epochs: ck holds epoch 2, ck.prev epoch 1.
  EXPECT_EQ(readSafetensors(opts.checkpointPath).metadata.at("epoch"), "2");
  EXPECT_EQ(readSafetensors(opts.checkpointPath + ".prev").metadata.at("epoch"),
            "1");

  std::string bytes = test::readBytes(opts.checkpointPath);
  bytes[bytes.size() - 3] ^= 0x10; // one bit of the last weight
  test::writeBytes(opts.checkpointPath, bytes);
  TrainOptions resume;
  resume.resumePath = opts.checkpointPath;
  try {
    t.train(initState(c.step, 7), xorData(), resume);
    FAIL() << "a corrupt checkpoint was accepted";
  } catch (const UserError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(opts.checkpointPath + ": error: checksum mismatch"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("note: the previous checkpoint '" + opts.checkpointPath +
                       ".prev' is intact; continue from it with --resume " +
                       opts.checkpointPath + ".prev"),
              std::string::npos)
        << msg;
  }
  // And the offered one does resume.
  resume.resumePath = opts.checkpointPath + ".prev";
  EXPECT_EQ(t.train(initState(c.step, 7), xorData(), resume).steps, 4);
}

/// RLIMIT_FSIZE makes every write past `bytes` fail with EFBIG, as a full
/// disk fails with ENOSPC: a real write error from the kernel, no mock.
class FileSizeLimit {
public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old);
    oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim = old;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, oldHandler);
  }

private:
  rlimit old;
  void (*oldHandler)(int);
};

TEST_F(FaultsTest, WriteErrorKeepsTheOldCheckpointAndNoTempFile) {
  Compiled c = xorModel(2, 1);
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  t.train(initState(c.step, 7), xorData(), opts);
  std::string before = test::readBytes(opts.checkpointPath);
  ASSERT_GT(before.size(), 200u);

  Compiled c2 = xorModel(2, 2);
  Trainer t2(c2.step, c2.eval, c2.recipe);
  opts.resumePath = opts.checkpointPath;
  try {
    FileSizeLimit full(before.size() / 2);
    t2.train(initState(c.step, 7), xorData(), opts);
    FAIL() << "the write error was not reported";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find(opts.checkpointPath +
                                         ": error: cannot write file: File "
                                         "too large"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(test::readBytes(opts.checkpointPath), before);
  EXPECT_TRUE(tmp.filesWith(".tmp").empty());
  // The epoch-1 checkpoint still resumes.
  EXPECT_EQ(t2.train(initState(c.step, 7), xorData(), opts).steps, 4);
}

TEST_F(FaultsTest, NaNInTheDataIsNamedAndTheCheckpointKept) {
  Compiled c = xorModel(2, 1);
  Trainer t(c.step, c.eval, c.recipe);
  TrainOptions opts;
  opts.checkpointPath = tmp.path("ck.safetensors");
  t.train(initState(c.step, 7), xorData(), opts);
  std::string good = test::readBytes(opts.checkpointPath);

  Compiled c2 = xorModel(2, 3);
  Trainer t2(c2.step, c2.eval, c2.recipe);
  Dataset bad = xorData();
  bad.x.data[5] = std::nanf("");
  opts.resumePath = opts.checkpointPath;
  try {
    t2.train(initState(c.step, 7), bad, opts);
    FAIL() << "NaN went unnoticed";
  } catch (const UserError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("nnc: error: training stopped at step "),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("the loss is NaN"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the first: input 'x' at m.nn:2:7 holds 1 non-finite "
                       "value (1 NaN, 0 +inf, 0 -inf) of 4, shape [2,2]: the "
                       "data holds them"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("the last good checkpoint '" + opts.checkpointPath +
                       "' is kept"),
              std::string::npos)
        << msg;
  }
  EXPECT_EQ(test::readBytes(opts.checkpointPath), good);
}

TEST_F(FaultsTest, HugeLearningRateStopsNamingTheFirstBadOp) {
  Compiled c = test::compileModel(R"(model blowup
input x : f32[1]
label y : real
param w : f32[1] = [1.0]
p = x @ w
loss mse(p, y)
)",
                                  [](Recipe &r) {
                                    r.optimizer.lr = 1e6;
                                    r.batch = 2;
                                    r.epochs = 100;
                                    r.shuffle = false;
                                  });
  Dataset d;
  d.x = Tensor({2, 1});
  d.x.data = {3, 4};
  d.y = Tensor({2});
  d.y.data = {1, 2};
  d.source = "blowup";
  Trainer t(c.step, c.eval, c.recipe);
  try {
    t.train(initState(c.step, 0), d, {});
    FAIL() << "lr = 1e6 trained without complaint";
  } catch (const UserError &e) {
    std::string msg = e.what();
    // w grows by about 1e7 a step: float32 overflows within a few steps.
    EXPECT_NE(msg.find("training stopped at step "), std::string::npos) << msg;
    EXPECT_NE(msg.find("the first: op '"), std::string::npos) << msg;
    EXPECT_NE(msg.find("non-finite"), std::string::npos) << msg;
    EXPECT_NE(msg.find("try a smaller learning rate"), std::string::npos);
  }
}

TEST_F(FaultsTest, ExtremeLogitsGiveFiniteLossesAndUpdates) {
  // Logits of +-1e4 into softmax + cross-entropy (the wrong class: a loss of
  // 2e4) and into sigmoid + bce (p rounds to exactly 1 in float32 while
  // y = 0: a loss of 1e4): the stable-losses rewrite keeps every loss and
  // gradient finite, on every backend this build has (but cuda).
  const char *softmax = R"(model ext
input x : f32[2]
label y : class(2)
param w : f32[2,2] = [1, 0, 0, 1]
z = x @ w
loss cross_entropy(softmax(z), y)
)";
  const char *bce = R"(model extb
input x : f32[1]
label y : binary
param v : f32[1] = [1]
p = sigmoid(x @ v)
loss bce(p, y)
)";
  struct Case {
    const char *model;
    std::vector<float> x, y;
    int64_t features;
    double loss;
  } cases[] = {{softmax, {1e4f, -1e4f, -1e4f, 1e4f}, {1, 0}, 2, 2e4},
               {bce, {1e4f, -1e4f}, {0, 1}, 1, 1e4}};
  for (const Case &cs : cases)
    for (const std::string &backend : backendNames()) {
      if (backend == "cuda")
        continue; // needs a device; the CUDA tests cover it where present
      Compiled c = test::compileModel(cs.model, [](Recipe &r) {
        r.optimizer.lr = 1e-6;
        r.batch = 2;
        r.epochs = 1;
        r.shuffle = false;
      });
      Dataset d;
      d.x = Tensor({2, cs.features});
      d.x.data = cs.x;
      d.y = Tensor({2});
      d.y.data = cs.y;
      d.source = "extremes";
      Trainer t(c.step, c.eval, c.recipe);
      TrainOptions o;
      o.backend = backend;
      TrainResult r = t.train(initState(c.step, 0), d, o);
      ASSERT_EQ(r.history.size(), 1u) << backend;
      double loss = r.history[0].train.loss;
      EXPECT_TRUE(std::isfinite(loss)) << backend;
      EXPECT_NEAR(loss, cs.loss, 1e-3 * cs.loss) << backend << " " << cs.model;
      for (const auto &[name, tensor] : r.state)
        for (float v : tensor.data)
          EXPECT_TRUE(std::isfinite(v)) << backend << ": " << name;
    }
}

TEST_F(FaultsTest, ABlowUpMidEpochIsTracedBackToItsFirstStep) {
  // 200 samples, batch 1, a huge learning rate with momentum: w overflows
  // to +inf in an update while that step's loss (on the logits, bounded
  // gradient) is still finite; the next step's loss is NaN. The parameters
  // are scanned only every few dozen steps (the loss every step), so the
  // trainer replays from its snapshot: it must name the same step (the
  // update that overflowed), op and values as --check-numerics, which scans
  // every step.
  Compiled c = test::compileModel(R"(model blowup
input x : f32[1]
label y : binary
param w : f32[1] = [1.0]
p = sigmoid(x @ w)
loss bce(p, y)
)",
                                  [](Recipe &r) {
                                    r.optimizer.lr = 3e38;
                                    r.optimizer.momentum = 0.9;
                                    r.batch = 1;
                                    r.epochs = 1;
                                    r.shuffle = false;
                                  });
  Dataset d;
  d.x = Tensor({200, 1});
  d.y = Tensor({200});
  for (int i = 0; i < 200; ++i) {
    d.x.data[i] = 1;
    d.y.data[i] = 1;
  }
  d.source = "blowup";
  Trainer t(c.step, c.eval, c.recipe);
  auto message = [&](bool checkNumerics) {
    TrainOptions o;
    o.checkNumerics = checkNumerics;
    try {
      t.train(initState(c.step, 0), d, o);
    } catch (const UserError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string periodic = message(false), everyStep = message(true);
  EXPECT_NE(periodic.find("training stopped at step "), std::string::npos)
      << periodic;
  EXPECT_EQ(periodic.find("at step 1 "), std::string::npos) << periodic;
  // Not the NaN loss of the step after: the update that overflowed.
  EXPECT_NE(periodic.find(": non-finite values"), std::string::npos)
      << periodic;
  EXPECT_NE(periodic.find("the first: op '"), std::string::npos) << periodic;
  EXPECT_EQ(periodic, everyStep);
}

TEST_F(FaultsTest, CheckNumericsCatchesAnIntermediateOverflow) {
  // exp(100) = 2.7e43 overflows float32, yet sigmoid(-exp(..)) = 0, the loss
  // (y = 0) and every gradient stay finite: only a per-op check sees it.
  Compiled c = test::compileModel(R"(model hidden_inf
input x : f32[1]
label y : binary
param w : f32[1] = [100.0]
p = sigmoid(-exp(x @ w))
loss bce(p, y)
)",
                                  [](Recipe &r) { r.batch = 1; });
  Dataset d;
  d.x = Tensor({1, 1});
  d.x.data = {1};
  d.y = Tensor({1});
  d.y.data = {0};
  d.source = "one";
  Trainer t(c.step, c.eval, c.recipe);
  EXPECT_EQ(t.train(initState(c.step, 0), d, {}).steps, 1);
  TrainOptions opts;
  opts.checkNumerics = true;
  try {
    t.train(initState(c.step, 0), d, opts);
    FAIL() << "--check-numerics missed exp's overflow";
  } catch (const UserError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("non-finite values"), std::string::npos) << msg;
    EXPECT_NE(msg.find("the first: op 'exp' (node %"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("produced 1 non-finite value (0 NaN, 1 +inf, 0 -inf) "
                       "of 1, shape [1]"),
              std::string::npos)
        << msg;
  }
}

TEST_F(FaultsTest, EmptyDataSetIsAUserError) {
  Compiled c = xorModel(2, 1);
  Trainer t(c.step, c.eval, c.recipe);
  Dataset d;
  d.x = Tensor({0, 2});
  d.y = Tensor({0});
  d.source = "empty.csv";
  try {
    t.train(initState(c.step, 7), d, {});
    FAIL();
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "empty.csv: error: the data set is empty");
  }
}

TEST_F(FaultsTest, BatchLargerThanTheDataSetAndPartialBatches) {
  for (auto [batch, perEpoch] :
       {std::pair<int64_t, int64_t>{10, 1}, {4, 1}, {3, 2}, {1, 4}}) {
    Compiled c = xorModel(batch, 3);
    Trainer t(c.step, c.eval, c.recipe);
    TrainResult r = t.train(initState(c.step, 7), xorData(), {});
    EXPECT_EQ(r.steps, 3 * perEpoch) << "batch " << batch;
    ASSERT_EQ(r.history.size(), 3u);
    for (const EpochStats &e : r.history) {
      EXPECT_EQ(e.train.samples, 4) << "every sample once per epoch";
      EXPECT_TRUE(std::isfinite(e.train.loss));
    }
  }
}

} // namespace
} // namespace nn
