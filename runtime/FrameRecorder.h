//===- FrameRecorder.h - The moments of a run nnc play shows ---*- C++ -*-===//
///
/// \file
/// A TrainObserver that keeps the parameters of a run at chosen epochs (the
/// frames of `nnc play`'s slider) and every epoch's metrics, and passes
/// every event on to another observer (the progress lines).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/TrainEvents.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// The state of a run at the end of an epoch (0: before the first step).
struct RecordedState {
  int64_t epoch = 0;
  int64_t step = 0; ///< optimizer steps taken, all epochs
  TensorMap state;  ///< parameters and optimizer state
  /// The run's result after early stopping restored the weights of `epoch`.
  bool restored = false;
};

/// The stride of the recorded epochs: every k-th of `epochs` so that at most
/// `maxFrames` of them (the last always) are kept; 1 when all fit.
int64_t frameStride(int64_t epochs, int64_t maxFrames);

class FrameRecorder : public TrainObserver {
public:
  /// Keeps epochs k, 2k, ... (k = frameStride(epochs, maxFrames)) and the
  /// recipe's last; events go on to `next` when it is given.
  FrameRecorder(int64_t epochs, int64_t maxFrames, TrainObserver *next);

  /// The state before training, as frame 0.
  void start(const TensorMap &state) {
    frames.push_back({0, 0, state, false});
  }

  std::vector<RecordedState> frames;
  std::vector<EpochStats> history; ///< every epoch's metrics

  bool wantsEpochState(int64_t epoch) const override;
  void epochState(int64_t epoch, const TensorMap &state) override;
  void epochDone(const EpochStats &stats) override;

  void warning(const std::string &text) override;
  void compileStarted(const std::string &what) override;
  void compileFinished(double seconds) override;
  void trainingStarted(const TrainPlan &plan) override;
  void epochStarted(int64_t epoch) override;
  void batchDone(const BatchDone &b) override;
  void metricsFailed(int64_t epoch) override;
  void stoppedEarly(int64_t bestEpoch, int64_t badEpochs) override;
  void checkpointWritten(const std::string &path) override;
  void stoppedBySteps(const StopPoint &at) override;
  void interrupted(int signal, const StopPoint &at,
                   const std::string &checkpoint) override;
  void restoredBest(int64_t epoch) override;
  void stepFailed() override;

private:
  int64_t epochs, stride;
  TrainObserver *next;
};

} // namespace nn
