//===- TrainRun.h - One call of Trainer::train ------------------*- C++ -*-===//
///
/// \file
/// The state of one training run, split into its phases: resume from a
/// checkpoint, compile, the epochs (each a run of steps, then validation,
/// metrics, early stopping and a checkpoint), and the result. Internal to
/// Trainer::train; what happens is told to a TrainObserver.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Batcher.h"
#include "runtime/Executor.h"
#include "runtime/MetricsFile.h"
#include "runtime/TrainEvents.h"
#include "runtime/Trainer.h"

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace nn {

class DataParallelExecutor;

/// Where a run stands: enough to resume it exactly.
struct RunProgress {
  int64_t epoch = 0; // the epoch under way, 0-based
  int64_t batch = 0; // the next batch of that epoch
  int64_t step = 0;  // optimizer steps taken, all epochs
  double lossSum = 0;
  int64_t correct = 0;
  int64_t samples = 0;
  double bestLoss = std::numeric_limits<double>::infinity();
  int64_t bestEpoch = 0;
  int64_t badEpochs = 0;
};

/// The parts of a Trainer a run uses.
struct TrainSetup {
  const Trainer &trainer; // for evaluate
  const Graph &step;
  const Graph &eval;
  /// The unfused evaluation graph: what a checkpoint records of the model
  /// and checks on resume, whatever the fusions (--fuse) of either run.
  const Graph &model;
  const Recipe &recipe;
  bool realLabels;
};

class TrainRun {
public:
  TrainRun(const TrainSetup &setup, const Dataset &data,
           const TrainOptions &opts);
  TrainRun(const TrainRun &) = delete; // `observer` may refer to a member
  TrainRun &operator=(const TrainRun &) = delete;
  /// Trains from `state` (every Param and State leaf).
  TrainResult run(TensorMap state);

private:
  using Clock = std::chrono::steady_clock;
  /// Steps between copies of the state kept to explain a non-finite step.
  static constexpr int64_t kSnapshotSteps = 64;
  enum class Stop { None, Steps, Interrupted, Early };

  void resume(TensorMap &state);
  void compile(const TensorMap &state);
  void openMetrics();
  Stop runEpoch();
  void step();
  /// The steps up to the next moment the host must act, in one call of
  /// Executor::runSteps (runtime/TrainChunks.cpp); then the same bookkeeping
  /// as step() for each.
  void runChunk();
  /// How many steps runChunk runs from where the run stands.
  int64_t chunkSteps() const;
  /// Checks and counts step `i` of a chunk of `d` (p stands at it).
  void countChunkStep(const StepsDone &d, int64_t i, int64_t batchSize,
                      Clock::time_point done);
  /// Writes the lr of `step` (0-based, all epochs) in `epoch` into the
  /// executor (runtime/LrSchedule.h).
  void setLr(int64_t step, int64_t epoch);
  void snapshotIfDue();
  void checkStep(const TensorMap &feed, double loss);
  [[noreturn]] void replayBadSteps();
  /// Tells the observer about the step that ended at `now`.
  void reportBatch(Clock::time_point now);
  Stop endEpoch();
  EpochStats epochStats() const;
  void writeMetrics(const EpochStats &st);
  bool earlyStop(const EpochStats &st);
  void checkpoint(const std::string &path);
  StopPoint stopPoint() const;
  void finishInterrupted();
  void finishBySteps();
  TrainResult result(bool interrupted);
  void restoreBest(TrainResult &r);
  Metrics validate(const TensorMap &state) const;
  /// Whether the run must stop for a signal: this process's flag, or in a
  /// data-parallel run the one every rank agreed on at the last step.
  bool stopAsked() const;

  TrainSetup s;
  const TrainOptions &opts;
  TrainObserver defaultObserver;
  TrainObserver &observer;
  /// The training and the validation rows (splitValidation).
  std::pair<std::vector<int64_t>, std::vector<int64_t>> rows;
  Batcher batcher;
  Dataset valSet;
  bool hasValidation;
  int64_t perEpoch;
  bool hasLrLeaf; // the step graph reads "optimizer.lr"
  /// Steps run in chunks (ExecutorOptions::epochProgram, a backend that
  /// compiles them, no --check-numerics); set by compile().
  bool chunked = false;
  std::vector<int64_t> order; // the row order of epoch orderEpoch
  /// The step count after which the observer wants the state (-1: never).
  int64_t stateStep = -1;
  int64_t orderEpoch = -1;

  std::unique_ptr<Executor> exec;
  /// `exec` in a data-parallel run (runtime/DataParallel.h), else null.
  DataParallelExecutor *dp = nullptr;
  RunProgress p;
  TensorMap best; // the best epoch's state, for early stopping
  std::optional<MetricsFile> metrics;
  TrainResult res; // history, stoppedEarly, metricsError so far
  double compileSeconds = 0;
  /// Whether opts.checkpointPath holds a checkpoint of this run (or the one
  /// it resumed from) that a failure leaves as the last good one.
  bool checkpointKept = false;

  TensorMap snapshot; // the state before step snapBatch of epoch snapEpoch
  int64_t snapEpoch = -1, snapBatch = 0;

  // The epoch under way: when it started, and when its first step of this
  // run ended (rates are timed from there).
  Clock::time_point epochStart, firstDone;
  int64_t epochStartBatch = 0, firstSamples = 0;
};

/// The checkpoint metadata of `p` (trained by `r`), and back; readProgress
/// throws UserError naming `path` for a missing or bad field, or for a
/// checkpoint written with another batch size, seed or validation split.
Metadata progressMetadata(const RunProgress &p, const Recipe &r);
RunProgress readProgress(const Metadata &m, const Recipe &r,
                         const std::string &path);

} // namespace nn
