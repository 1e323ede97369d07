//===- TrainProgress.cpp - What nnc train shows while it trains -----------===//

#include "tools/TrainProgress.h"

#include "ir/Format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>

namespace nn {

namespace {

std::string fixed(double v, int digits = 4) {
  return fmt::format("{:.{}f}", v, digits);
}

/// "  lr 0.05": four significant digits, as the schedule changes it.
std::string lrText(double lr) { return fmt::format("  lr {:.4g}", lr); }

} // namespace

std::string clockText(double seconds) {
  int64_t t = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (t >= 3600)
    return fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}

std::string progressLine(const BatchDone &b, bool color) {
  const int width = 24;
  int filled =
      b.batches > 0 ? static_cast<int>(width * b.batch / b.batches) : width;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width)
    bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
  std::string line =
      fmt::format("epoch {}/{} [{}{}{}] {}/{}  loss {}", b.epoch, b.epochs,
                  color ? "\x1b[32m" : "", bar, color ? "\x1b[0m" : "", b.batch,
                  b.batches, fixed(b.loss));
  if (!std::isnan(b.accuracy))
    line += "  acc " + percent(b.accuracy);
  line += lrText(b.lr);
  if (std::isnan(b.samplesPerSec))
    return line + "  - samples/s  ETA -";
  return line + fmt::format("  {} samples/s  ETA {}",
                            static_cast<int64_t>(b.samplesPerSec),
                            clockText(b.etaSeconds));
}

TrainProgress::TrainProgress(std::ostream *log, bool bar, bool color)
    : log(log), bar(bar), color(color), lastDrawn(Clock::now()) {}

TrainProgress::~TrainProgress() {
  notice.reset();
  eraseBar(); // a run that stopped with an error: before its message
}

void TrainProgress::eraseBar() {
  if (log && barShown)
    *log << "\r\x1b[K" << std::flush;
  barShown = false;
}

void TrainProgress::warning(const std::string &text) {
  std::ostream &out = log ? *log : std::cerr;
  out << text << std::flush;
}

void TrainProgress::compileStarted(const std::string &what) {
  // A terminal sees the compile happen when it takes a while.
  notice = std::make_unique<ProgressNotice>(bar ? log : nullptr, what);
}

void TrainProgress::compileFinished(double seconds) {
  notice.reset();
  compileSeconds = seconds;
}

void TrainProgress::trainingStarted(const TrainPlan &p) {
  plan = p;
  lastDrawn = Clock::now();
}

void TrainProgress::batchDone(const BatchDone &b) {
  if (!log || !bar)
    return;
  Clock::time_point now = Clock::now();
  if (now - lastDrawn <= std::chrono::milliseconds(100) && b.batch != b.batches)
    return;
  lastDrawn = now;
  *log << "\r" << progressLine(b, color) << "\x1b[K" << std::flush;
  barShown = true;
}

std::string TrainProgress::epochLine(const EpochStats &st) const {
  std::string line = fmt::format("epoch {}/{}  loss {}", st.epoch, plan.epochs,
                                 fixed(st.train.loss));
  if (!plan.realLabels)
    line += "  acc " + percent(st.train.accuracy);
  if (plan.validation) {
    line += "  val_loss " + fixed(st.validation.loss);
    if (!plan.realLabels)
      line += "  val_acc " + percent(st.validation.accuracy);
  }
  return line + lrText(st.lr) +
         fmt::format("  {}s  {} samples/s", fixed(st.seconds, 1),
                     static_cast<int64_t>(st.train.samples /
                                          std::max(st.seconds, 1e-9)));
}

void TrainProgress::epochDone(const EpochStats &st) {
  // On a terminal (where the bar shows the progress), long runs of short
  // epochs keep about 20 lines; logs get one line per epoch.
  int64_t every = bar ? std::max<int64_t>(1, (plan.epochs + 19) / 20) : 1;
  bool show = st.epoch % every == 0 || st.epoch == 1 || st.epoch == plan.epochs;
  bool first = !firstEpochShown; // this run's first epoch
  firstEpochShown = true;
  eraseBar();
  if (!log || !show)
    return;
  std::string line = epochLine(st);
  if (first && compileSeconds >= 0.1)
    line += "  (compiled in " + fixed(compileSeconds, 1) + "s)";
  *log << line << std::endl;
}

void TrainProgress::metricsFailed(int64_t epoch) {
  if (log) // the error itself comes at the end, with the others
    *log << "nnc: warning: cannot write --metrics from epoch " << epoch
         << " on; training goes on" << std::endl;
}

void TrainProgress::stoppedEarly(int64_t bestEpoch, int64_t badEpochs) {
  if (log)
    *log << "early stop: no improvement of the "
         << (plan.validation ? "validation" : "training") << " loss for "
         << badEpochs << " epochs; best epoch " << bestEpoch << std::endl;
}

void TrainProgress::stoppedBySteps(const StopPoint &at) {
  eraseBar();
  if (!log || at.train.samples == 0)
    return;
  *log << "stopped after " << at.step << " steps (epoch " << at.epoch
       << ", batch " << at.batch << "/" << at.batches << ")  loss "
       << fixed(at.train.loss);
  if (!plan.realLabels)
    *log << "  acc " << percent(at.train.accuracy);
  *log << std::endl;
}

void TrainProgress::interrupted(int signal, const StopPoint &at,
                                const std::string &checkpoint) {
  eraseBar();
  if (!log)
    return;
  *log << "interrupted by signal " << signal << " after " << at.step
       << " steps (epoch " << at.epoch << ", batch " << at.batch << "/"
       << at.batches << ")";
  if (!checkpoint.empty())
    *log << "; checkpoint written to " << checkpoint
         << "; continue with --resume " << checkpoint;
  *log << std::endl;
}

void TrainProgress::restoredBest(int64_t epoch) {
  if (log)
    *log << "restored the weights of epoch " << epoch << std::endl;
}

} // namespace nn
