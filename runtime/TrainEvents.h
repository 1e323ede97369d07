//===- TrainEvents.h - What the trainer tells its observer ------*- C++ -*-===//
///
/// \file
/// The trainer draws nothing: it reports what happens (compiling, a batch
/// done, an epoch's metrics, an early stop, an interrupt, ...) to a
/// TrainObserver, and whoever runs it decides what a person sees. The nnc
/// driver's observer (tools/TrainProgress.h) draws the progress bar and the
/// epoch lines; tests may record the events. Every event has an empty
/// default, except warning(), which writes to stderr.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Trainer.h"

#include <cstdint>
#include <string>

namespace nn {

/// What a run is about to do, told once before its first step.
struct TrainPlan {
  int64_t epochs = 0;          ///< the recipe's epochs, all runs together
  int64_t batchesPerEpoch = 0; ///< steps in an epoch
  bool realLabels = false;     ///< no accuracy: the labels are real numbers
  bool validation = false;     ///< samples are held out for validation
};

/// A step done: where it stands in its epoch and the epoch's running means.
struct BatchDone {
  int64_t epoch = 0;   ///< 1-based
  int64_t epochs = 0;  ///< the recipe's
  int64_t batch = 0;   ///< batches of the epoch done, this one included
  int64_t batches = 0; ///< batches in an epoch
  double loss = 0;     ///< running mean over the epoch's batches
  double accuracy = 0; ///< likewise; NaN for real labels
  double lr = 0;       ///< the learning rate of this step (the schedule's)
  /// Samples a second since the end of this run's first step of the epoch
  /// (which may include one-time work), and the seconds left at that rate;
  /// NaN until a second step is done.
  double samplesPerSec = 0;
  double etaSeconds = 0;
};

/// Where a run stopped short (by --steps or a signal).
struct StopPoint {
  int64_t step = 0;    ///< optimizer steps done, all epochs
  int64_t epoch = 0;   ///< the epoch under way, 1-based
  int64_t batch = 0;   ///< its batches done
  int64_t batches = 0; ///< batches in an epoch
  /// Running means over the epoch's batches done (samples 0 when none;
  /// accuracy NaN for real labels).
  Metrics train;
};

class TrainObserver {
public:
  virtual ~TrainObserver() = default;
  /// A warning or note, whole lines with their newlines ("nnc: warning:
  /// ..."), shown even when quiet; by default written to stderr.
  virtual void warning(const std::string &text);
  /// The one-time compile of the step ("compiling xor for cpu") starts;
  /// compileFinished follows, also when it fails.
  virtual void compileStarted(const std::string &what) {}
  virtual void compileFinished(double seconds) {}
  virtual void trainingStarted(const TrainPlan &plan) {}
  virtual void epochStarted(int64_t epoch) {}
  virtual void batchDone(const BatchDone &b) {}
  /// An epoch ended: its metrics (validated when samples are held out).
  virtual void epochDone(const EpochStats &stats) {}
  /// Whether epochState should be told the parameters at the end of epoch
  /// `epoch` (1-based); copying them off a GPU costs, so only when asked.
  virtual bool wantsEpochState(int64_t epoch) const { return false; }
  /// The parameters and optimizer state at the end of epoch `epoch`, after
  /// epochDone (`nnc play` records its frames here).
  virtual void epochState(int64_t epoch, const TensorMap &state) {}
  /// The first count of optimizer steps (all epochs) above `step` after
  /// which stepState should be told the state; -1: none. The CPU backend's
  /// runs of steps end there, so asking often costs speed.
  virtual int64_t nextStateStep(int64_t step) const { return -1; }
  /// The state after `step` steps, `batch` batches into the epoch under
  /// way (0-based `epoch`); not told at an epoch's end (epochState is).
  virtual void stepState(int64_t step, int64_t epoch, int64_t batch,
                         const TensorMap &state) {}
  /// Writing the --metrics file failed at `epoch`: no more lines are
  /// written, training goes on (TrainResult::metricsError says why).
  virtual void metricsFailed(int64_t epoch) {}
  /// Early stopping: no improvement for `badEpochs` epochs.
  virtual void stoppedEarly(int64_t bestEpoch, int64_t badEpochs) {}
  virtual void checkpointWritten(const std::string &path) {}
  /// --steps reached; the checkpoint is written after this.
  virtual void stoppedBySteps(const StopPoint &at) {}
  /// Stopped by signal `signal`; `checkpoint` ("" when none) was written.
  virtual void interrupted(int signal, const StopPoint &at,
                           const std::string &checkpoint) {}
  /// Early stopping put back the weights of `epoch`.
  virtual void restoredBest(int64_t epoch) {}
  /// A step produced NaN or infinities: the run stops with a UserError
  /// thrown right after this.
  virtual void stepFailed() {}
};

} // namespace nn
