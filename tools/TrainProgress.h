//===- TrainProgress.h - What nnc train shows while it trains ---*- C++ -*-===//
///
/// \file
/// The driver's TrainObserver: one line per epoch (about 20 in all on a
/// terminal, where a progress bar redrawn in place about ten times a second
/// shows the steps between them), the compile notice, early stopping,
/// interrupts and warnings. Without a log (--quiet) only warnings are shown.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/ProgressNotice.h"
#include "runtime/TrainEvents.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

namespace nn {

class TrainProgress : public TrainObserver {
public:
  /// Lines go to `log` (null: none); `bar`: `log` is a terminal, so a
  /// progress bar is drawn too (with ANSI colour when `color`). Off, `log`
  /// gets plain lines only (no control characters).
  TrainProgress(std::ostream *log, bool bar, bool color);
  ~TrainProgress() override;

  void warning(const std::string &text) override;
  void compileStarted(const std::string &what) override;
  void compileFinished(double seconds) override;
  void trainingStarted(const TrainPlan &plan) override;
  void batchDone(const BatchDone &b) override;
  void epochDone(const EpochStats &st) override;
  void metricsFailed(int64_t epoch) override;
  void stoppedEarly(int64_t bestEpoch, int64_t badEpochs) override;
  void stoppedBySteps(const StopPoint &at) override;
  void interrupted(int signal, const StopPoint &at,
                   const std::string &checkpoint) override;
  void restoredBest(int64_t epoch) override;
  void stepFailed() override { eraseBar(); }

private:
  using Clock = std::chrono::steady_clock;
  void eraseBar();
  /// The whole line of an epoch's metrics.
  std::string epochLine(const EpochStats &st) const;

  std::ostream *log;
  bool bar, color;
  TrainPlan plan;
  std::unique_ptr<ProgressNotice> notice;
  double compileSeconds = 0;
  bool firstEpochShown = false;
  bool barShown = false;
  Clock::time_point lastDrawn;
};

/// The progress bar line (without the leading carriage return):
/// "epoch 2/10 [=====>    ] 420/844  loss 0.4123  acc 85.20%  lr 0.05
/// 12345 samples/s  ETA 0:35".
std::string progressLine(const BatchDone &b, bool color);

/// "1:05" or "2:03:07".
std::string clockText(double seconds);

} // namespace nn
