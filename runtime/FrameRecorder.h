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

/// The state of a run after `epoch` epochs and `batch` batches of the next
/// (0, 0: before the first step).
struct RecordedState {
  int64_t epoch = 0;
  int64_t step = 0; ///< optimizer steps taken, all epochs
  int64_t batch = 0;
  TensorMap state;  ///< parameters and optimizer state
  /// The run's result after early stopping restored the weights of `epoch`.
  bool restored = false;
};

/// The stride of the recorded epochs: every k-th of `epochs` so that at most
/// `maxFrames` of them (the last always) are kept; 1 when all fit. Also the
/// stride of the recorded steps of a run of few epochs (`epochs`: steps).
int64_t frameStride(int64_t epochs, int64_t maxFrames);

class FrameRecorder : public TrainObserver {
public:
  /// Keeps epochs k, 2k, ... (k = frameStride(epochs, maxFrames)) and the
  /// recipe's last; when that is fewer than maxFrames - 1 and an epoch has
  /// several steps, every epoch's end and every k-th step instead (k =
  /// frameStride(all steps, maxFrames - epochs)). Events go on to `next`
  /// when it is given.
  FrameRecorder(int64_t epochs, int64_t maxFrames, TrainObserver *next);

  /// The state before training, as frame 0.
  void start(const TensorMap &state) {
    frames.push_back({0, 0, 0, state, false});
  }

  std::vector<RecordedState> frames;
  std::vector<EpochStats> history; ///< every epoch's metrics

  /// Steps in an epoch (told by trainingStarted).
  int64_t batchesPerEpoch() const { return perEpoch; }

  bool wantsEpochState(int64_t epoch) const override;
  void epochState(int64_t epoch, const TensorMap &state) override;
  int64_t nextStateStep(int64_t step) const override;
  void stepState(int64_t step, int64_t epoch, int64_t batch,
                 const TensorMap &state) override;
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
  int64_t epochs, maxFrames, stride;
  int64_t perEpoch = 1, stepStride = 0; // 0: epochs only
  TrainObserver *next;
};

} // namespace nn
