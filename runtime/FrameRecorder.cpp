//===- FrameRecorder.cpp - The moments of a run nnc play shows ------------===//
///
/// \file
/// Keeps the state at every stride-th epoch and forwards every event.
///
/// Algorithm: stride k = ceil(epochs / (maxFrames - 1)) (frame 0 is the
/// state before training, so maxFrames - 1 epochs at most); epoch e is
/// kept when e is a multiple of k or the recipe's last. A run of fewer
/// epochs than that, of several steps each, keeps every epoch's end and
/// every k-th step between, k = ceil(steps / room) for the room left
/// (steps that end an epoch are kept once, as the epoch's end).
///
//===----------------------------------------------------------------------===//

#include "runtime/FrameRecorder.h"

#include <algorithm>

namespace nn {

int64_t frameStride(int64_t epochs, int64_t maxFrames) {
  int64_t room = std::max<int64_t>(1, maxFrames - 1);
  return std::max<int64_t>(1, (epochs + room - 1) / room);
}

FrameRecorder::FrameRecorder(int64_t epochs, int64_t maxFrames,
                             TrainObserver *next)
    : epochs(epochs), maxFrames(maxFrames),
      stride(frameStride(epochs, maxFrames)), next(next) {}

bool FrameRecorder::wantsEpochState(int64_t epoch) const {
  return stepStride > 0 || epoch % stride == 0 || epoch == epochs;
}

void FrameRecorder::epochState(int64_t epoch, const TensorMap &state) {
  int64_t step = history.empty() ? 0 : history.back().steps;
  frames.push_back({epoch, step, 0, state, false});
}

int64_t FrameRecorder::nextStateStep(int64_t step) const {
  return stepStride > 0 ? (step / stepStride + 1) * stepStride : -1;
}

void FrameRecorder::stepState(int64_t step, int64_t epoch, int64_t batch,
                              const TensorMap &state) {
  frames.push_back({epoch, step, batch, state, false});
}

void FrameRecorder::epochDone(const EpochStats &stats) {
  history.push_back(stats);
  if (next)
    next->epochDone(stats);
}

void FrameRecorder::warning(const std::string &text) {
  if (next)
    next->warning(text);
  else
    TrainObserver::warning(text);
}

void FrameRecorder::compileStarted(const std::string &what) {
  if (next)
    next->compileStarted(what);
}

void FrameRecorder::compileFinished(double seconds) {
  if (next)
    next->compileFinished(seconds);
}

void FrameRecorder::trainingStarted(const TrainPlan &plan) {
  perEpoch = std::max<int64_t>(1, plan.batchesPerEpoch);
  int64_t room = maxFrames - 1 - epochs; // after frame 0 and every epoch's end
  if (epochs < maxFrames - 1 && perEpoch > 1 && room > 0)
    stepStride = frameStride(epochs * perEpoch, room + 1);
  if (next)
    next->trainingStarted(plan);
}

void FrameRecorder::epochStarted(int64_t epoch) {
  if (next)
    next->epochStarted(epoch);
}

void FrameRecorder::batchDone(const BatchDone &b) {
  if (next)
    next->batchDone(b);
}

void FrameRecorder::metricsFailed(int64_t epoch) {
  if (next)
    next->metricsFailed(epoch);
}

void FrameRecorder::stoppedEarly(int64_t bestEpoch, int64_t badEpochs) {
  if (next)
    next->stoppedEarly(bestEpoch, badEpochs);
}

void FrameRecorder::checkpointWritten(const std::string &path) {
  if (next)
    next->checkpointWritten(path);
}

void FrameRecorder::stoppedBySteps(const StopPoint &at) {
  if (next)
    next->stoppedBySteps(at);
}

void FrameRecorder::interrupted(int signal, const StopPoint &at,
                                const std::string &checkpoint) {
  if (next)
    next->interrupted(signal, at, checkpoint);
}

void FrameRecorder::restoredBest(int64_t epoch) {
  if (next)
    next->restoredBest(epoch);
}

void FrameRecorder::stepFailed() {
  if (next)
    next->stepFailed();
}

} // namespace nn
