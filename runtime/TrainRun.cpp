//===- TrainRun.cpp - The epochs of one training run ----------------------===//
///
/// \file
/// Algorithm: for each epoch, the Batcher yields the batches of a permutation
/// that depends on (seed, epoch) alone; each batch runs the step graph once
/// (forward, backward, update). After each epoch: validation metrics, early
/// stopping, a checkpoint. Because batches depend only on (seed, epoch,
/// index), a checkpoint needs just the weights, the optimizer state and
/// those counters to resume bit for bit. Where the backend compiles runs of
/// steps (the cpu backend), the steps between two moments the loop must act
/// run in one call (runtime/TrainChunks.cpp), with the same bits.
///
/// Faults: SIGINT/SIGTERM (runtime/Signals.h) are polled after each step (or
/// run of steps); the run then writes a checkpoint where it stands and
/// returns `interrupted`.
/// After each step the loss and the new parameters must be finite; when not
/// (or after every step with checkNumerics) the step is re-run on the
/// interpreter from the state before it to name the first op that produced
/// NaN or infinities, and the run stops without writing anything, so the
/// last checkpoint stays good.
///
//===----------------------------------------------------------------------===//

#include "runtime/TrainRun.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/DataParallel.h"
#include "runtime/Distributed.h"
#include "runtime/LrSchedule.h"
#include "runtime/OutputPaths.h"
#include "runtime/Resume.h"
#include "runtime/Signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <sstream>

namespace nn {

namespace {

bool allFinite(const TensorMap &m) {
  // Branch-free over the exponent bits, so that it vectorizes: this runs
  // after every step, over every parameter.
  for (const auto &[name, t] : m) {
    uint32_t bad = 0;
    for (float v : t.data) {
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (bad)
      return false;
  }
  return true;
}

/// The running means of `p`'s epoch so far.
Metrics runningMetrics(const RunProgress &p, bool realLabels) {
  Metrics m;
  m.samples = p.samples;
  m.loss = p.lossSum / static_cast<double>(std::max<int64_t>(1, p.samples));
  if (!realLabels)
    m.accuracy = static_cast<double>(p.correct) /
                 static_cast<double>(std::max<int64_t>(1, p.samples));
  return m;
}

/// The message of a step that produced NaN or infinities.
std::string numericsError(const RunProgress &p, double loss,
                          const std::string &first, const std::string &help,
                          const TrainOptions &opts, bool checkpointKept) {
  std::ostringstream os;
  os << "nnc: error: training stopped at step " << p.step + 1 << " (epoch "
     << p.epoch + 1 << ", batch " << p.batch + 1 << "): ";
  if (std::isnan(loss))
    os << "the loss is NaN";
  else if (std::isinf(loss))
    os << "the loss is infinite";
  else
    os << "non-finite values";
  os << "\nnnc: note: ";
  if (first.empty())
    os << "the step re-run on the interpreter in double precision is finite "
          "throughout: a float32 overflow in the '"
       << opts.backend << "' backend";
  else
    os << "the first: " << first;
  os << "\nnnc: note: nothing was written after step " << p.step;
  if (checkpointKept)
    os << "; the last good checkpoint '" << opts.checkpointPath << "' is kept";
  else if (!opts.checkpointPath.empty())
    os << "; no checkpoint was written";
  os << "\nnnc: help: "
     << (help.empty() ? "check the data for NaN, or try a smaller learning rate"
                      : help);
  return os.str();
}

/// The training and validation rows of `data`; throws UserError when
/// nothing is left to train on.
std::pair<std::vector<int64_t>, std::vector<int64_t>>
splitRows(const Dataset &data, const Recipe &r) {
  auto rows =
      splitValidation(data.size(), r.validation, r.seed,
                      r.validationLoc.valid() ? r.validationLoc.str() : "nnc");
  if (rows.first.empty())
    throw UserError(fmt::format("{}: error: no training samples left after "
                                "holding out {} for validation",
                                data.source, percent(r.validation)));
  return rows;
}

} // namespace

void TrainObserver::warning(const std::string &text) {
  std::cerr << text << std::flush;
}

TrainRun::TrainRun(const TrainSetup &setup, const Dataset &data,
                   const TrainOptions &opts)
    : s(setup), opts(opts),
      observer(opts.observer ? *opts.observer : defaultObserver),
      rows(splitRows(data, s.recipe)), batcher(data, rows.first, s.recipe.batch,
                                               s.recipe.shuffle, s.recipe.seed),
      valSet(selectRows(data, rows.second)),
      hasValidation(!rows.second.empty()), perEpoch(batcher.batchesPerEpoch()),
      hasLrLeaf(s.step.findLeaf(OpKind::State, kLrLeaf).has_value()) {}

TrainResult TrainRun::run(TensorMap state) {
  if (!opts.resumePath.empty())
    resume(state);
  compile(state);
  openMetrics();
  checkpointKept = !opts.checkpointPath.empty() && !opts.resumePath.empty() &&
                   sameFile(opts.checkpointPath, opts.resumePath);
  InterruptScope interruptScope;
  std::ostringstream length;
  warnAboutLength(length, p.epoch, p.batch, p.step, perEpoch, s.recipe.epochs,
                  opts.maxSteps, opts.resumePath);
  if (!length.str().empty())
    observer.warning(length.str());
  observer.trainingStarted(
      {s.recipe.epochs, perEpoch, s.realLabels, hasValidation});
  stateStep = observer.nextStateStep(p.step);
  Stop stop = Stop::None;
  while (stop == Stop::None && p.epoch < s.recipe.epochs)
    stop = runEpoch();
  if (stop == Stop::Interrupted)
    finishInterrupted();
  if (stop == Stop::Steps)
    finishBySteps();
  return result(stop == Stop::Interrupted);
}

void TrainRun::resume(TensorMap &state) {
  const std::string &path = opts.resumePath;
  LoadedWeights lw;
  try {
    bool noMomentum = trainedWithoutMomentum(requireCheckpoint(path));
    lw = loadWeights(path, s.step, !noMomentum, {"best."});
  } catch (const UserError &e) {
    std::string prev = path + ".prev";
    bool prevOk = false;
    try {
      loadWeights(prev, s.step, true, {"best."});
      prevOk = true;
    } catch (const UserError &) {
    }
    if (!prevOk)
      throw;
    throw UserError(std::string(e.what()) +
                    "\nnnc: note: the previous checkpoint '" + prev +
                    "' is intact; continue from it with --resume " + prev);
  }
  for (auto &[name, t] : lw.values) // momentum added now starts at zero
    state[name] = t;
  p = readProgress(lw.metadata, s.recipe, path);
  std::ostringstream notes;
  checkResumeIdentity(lw.metadata, path, s.model, s.recipe, &notes);
  if (!notes.str().empty())
    observer.warning(notes.str());
  for (auto &[name, t] : lw.extra)
    best[name.substr(5)] = t;
}

void TrainRun::compile(const TensorMap &state) {
  if (opts.gradients && distributed()) {
    auto e = std::make_unique<DataParallelExecutor>(
        *opts.gradients, s.recipe.optimizer, opts.backend, opts.executor);
    dp = e.get();
    exec = std::move(e);
  } else {
    exec = makeExecutor(opts.backend, s.step, opts.executor);
  }
  exec->setState(state);
  // The one-time compile, timed apart from the first epoch (whose line says
  // how long it took).
  observer.compileStarted("compiling " + s.step.name + " for " + opts.backend);
  Clock::time_point t0 = Clock::now();
  try {
    exec->prepare(s.recipe.batch);
  } catch (...) {
    observer.compileFinished(
        std::chrono::duration<double>(Clock::now() - t0).count());
    throw;
  }
  compileSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
  chunked = opts.executor.epochProgram && !opts.checkNumerics &&
            exec->compiledSteps();
  observer.compileFinished(compileSeconds);
}

void TrainRun::openMetrics() {
  // Nothing is written before the first epoch ends. A write that fails
  // stops the metrics, not the run: the result's metricsError says why.
  if (!opts.metricsPath.empty() && world().rank == 0)
    metrics.emplace(opts.metricsPath,
                    "epoch,step,train_loss,train_accuracy,val_loss,"
                    "val_accuracy,seconds,lr",
                    !opts.resumePath.empty());
}

TrainRun::Stop TrainRun::runEpoch() {
  epochStart = firstDone = Clock::now();
  epochStartBatch = p.batch;
  firstSamples = p.samples;
  observer.epochStarted(p.epoch + 1);
  while (p.batch < perEpoch) {
    if (opts.maxSteps >= 0 && p.step >= opts.maxSteps)
      return Stop::Steps; // possibly mid-epoch: p says where to resume
    if (chunked) {
      runChunk(); // p.batch is past the chunk's batches
    } else {
      step();
      ++p.batch; // this batch is done
    }
    if (p.step == stateStep) {
      if (p.batch < perEpoch) // an epoch's end goes to epochState
        observer.stepState(p.step, p.epoch, p.batch, exec->state());
      stateStep = observer.nextStateStep(p.step);
    }
    if (stopAsked())
      return Stop::Interrupted;
  }
  return endEpoch();
}

void TrainRun::step() {
  Batch batch = batcher.get(p.epoch, p.batch);
  TensorMap feed = bindBatch(s.step, std::move(batch.x), batch.y);
  setLr(p.step, p.epoch); // before the snapshot, which then holds it
  snapshotIfDue();
  TensorMap out = exec->run(feed);
  double loss = out.at("loss")[0];
  checkStep(feed, loss);
  p.lossSum += loss * batch.size;
  p.correct += countCorrect(s.step, out.at("pred"), batch.y);
  p.samples += batch.size;
  ++p.step;
  reportBatch(Clock::now());
}

void TrainRun::setLr(int64_t step, int64_t epoch) {
  // Written every step, scheduled or not: the lr of the recipe (--lr
  // included) wins over the one a resumed checkpoint holds.
  if (hasLrLeaf)
    exec->setScalar(kLrLeaf, scheduledLr(s.recipe, step, epoch));
}

void TrainRun::snapshotIfDue() {
  // A non-finite step is explained from the state before it. Copying the
  // state before every step would cost as much as a small step, so it is
  // copied every kSnapshotSteps steps (every step with --check-numerics)
  // and, when needed, the steps since are replayed (a step is a function of
  // the state and the batch).
  if (opts.checkNumerics || snapEpoch != p.epoch ||
      p.batch - snapBatch >= kSnapshotSteps) {
    snapshot = exec->state();
    snapEpoch = p.epoch;
    snapBatch = p.batch;
  }
}

void TrainRun::checkStep(const TensorMap &feed, double loss) {
  // The parameters are scanned for NaN and infinities where a snapshot is
  // due, before anything is written (an epoch's end, an interrupt, the last
  // step) and with --check-numerics; the loss after every step. A bad value
  // found late is traced back by replayBadSteps.
  bool lastStep = p.batch + 1 == perEpoch ||
                  (opts.maxSteps >= 0 && p.step + 1 >= opts.maxSteps);
  bool scan = opts.checkNumerics || lastStep || stopAsked() ||
              p.batch + 1 - snapBatch >= kSnapshotSteps;
  if (!std::isfinite(loss) || (scan && !allFinite(exec->state())))
    replayBadSteps();
  if (!opts.checkNumerics)
    return;
  // Every op, from the state before this step.
  std::string help;
  std::string first = findNonFinite(s.step, snapshot, feed, &help);
  if (first.empty())
    return;
  observer.stepFailed();
  throw UserError(numericsError(p, loss, first, help, opts, checkpointKept));
}

void TrainRun::replayBadSteps() {
  // Replay from the snapshot, one step at a time (a step is a function of
  // the state and the batch), to the first step whose loss or parameters
  // are not finite; explain it from its state.
  observer.stepFailed();
  exec->setState(snapshot);
  RunProgress at = p;
  at.step -= p.batch - snapBatch;
  for (at.batch = snapBatch;; ++at.batch, ++at.step) {
    TensorMap before = exec->state();
    Batch b = batcher.get(p.epoch, at.batch);
    TensorMap f = bindBatch(s.step, b.x, b.y);
    setLr(at.step, p.epoch);
    double l = exec->run(f).at("loss")[0];
    if (at.batch == p.batch || !std::isfinite(l) || !allFinite(exec->state())) {
      std::string help;
      std::string first = findNonFinite(s.step, before, f, &help);
      throw UserError(numericsError(at, l, first, help, opts, checkpointKept));
    }
  }
}

void TrainRun::reportBatch(Clock::time_point now) {
  // Rates are timed from the end of the epoch's first step, which may
  // include one-time work (JIT compilation, caches warming up).
  if (p.batch == epochStartBatch) {
    firstDone = now;
    firstSamples = p.samples;
  }
  double elapsed = std::chrono::duration<double>(now - firstDone).count();
  int64_t timed = p.batch - epochStartBatch; // steps since firstDone
  int64_t left =
      (s.recipe.epochs - p.epoch - 1) * perEpoch + (perEpoch - p.batch - 1);
  Metrics m = runningMetrics(p, s.realLabels);
  BatchDone b;
  b.epoch = p.epoch + 1;
  b.epochs = s.recipe.epochs;
  b.batch = p.batch + 1;
  b.batches = perEpoch;
  b.loss = m.loss;
  b.accuracy = m.accuracy;
  b.lr = scheduledLr(s.recipe, p.step - 1, p.epoch); // this step's
  b.samplesPerSec = timed > 0 ? static_cast<double>(p.samples - firstSamples) /
                                    std::max(elapsed, 1e-9)
                              : std::nan("");
  b.etaSeconds = timed > 0 ? elapsed / static_cast<double>(timed) *
                                 static_cast<double>(left)
                           : std::nan("");
  observer.batchDone(b);
}

EpochStats TrainRun::epochStats() const {
  EpochStats st;
  st.epoch = p.epoch + 1;
  st.steps = p.step;
  st.train = runningMetrics(p, s.realLabels);
  st.lr = scheduledLr(s.recipe, std::max<int64_t>(0, p.step - 1), p.epoch);
  if (hasValidation)
    st.validation = validate(exec->state());
  st.seconds = std::chrono::duration<double>(Clock::now() - epochStart).count();
  return st;
}

TrainRun::Stop TrainRun::endEpoch() {
  EpochStats st = epochStats();
  res.history.push_back(st);
  observer.epochDone(st);
  if (observer.wantsEpochState(st.epoch))
    observer.epochState(st.epoch, exec->state());
  writeMetrics(st);
  bool stopNow = earlyStop(st);
  ++p.epoch;
  p.batch = 0;
  p.lossSum = 0;
  p.correct = 0;
  p.samples = 0;
  checkpoint(opts.checkpointPath);
  if (stopNow)
    return Stop::Early;
  if (p.epoch < s.recipe.epochs && stopAsked()) // while validating
    return Stop::Interrupted;
  return Stop::None;
}

void TrainRun::writeMetrics(const EpochStats &st) {
  if (!metrics)
    return;
  auto num = [](double v) { return fmt::format("{:.17g}", v); };
  try {
    metrics->addLine(fmt::format(
        "{},{},{},{},{},{},{},{}", st.epoch, st.steps, num(st.train.loss),
        num(st.train.accuracy), num(st.validation.loss),
        num(st.validation.accuracy), num(st.seconds), num(st.lr)));
  } catch (const UserError &e) {
    metrics.reset();
    res.metricsError = e.what(); // reported at the end, with the others
    observer.metricsFailed(st.epoch);
  }
}

bool TrainRun::earlyStop(const EpochStats &st) {
  // Early stopping watches the validation loss (the training loss when
  // nothing is held out).
  const EarlyStop &es = s.recipe.earlyStop;
  if (!es.enabled)
    return false;
  double watched = hasValidation ? st.validation.loss : st.train.loss;
  if (watched < p.bestLoss - es.minDelta) {
    p.bestLoss = watched;
    p.bestEpoch = st.epoch;
    p.badEpochs = 0;
    if (es.restoreBest)
      best = exec->state();
    return false;
  }
  if (++p.badEpochs < es.patience)
    return false;
  res.stoppedEarly = true;
  observer.stoppedEarly(p.bestEpoch, p.badEpochs);
  return true;
}

void TrainRun::checkpoint(const std::string &path) {
  if (path.empty() || world().rank != 0) // one writer in a data-parallel run
    return;
  TensorMap extra;
  for (auto &[name, t] : best)
    extra["best." + name] = t;
  Metadata meta = progressMetadata(p, s.recipe);
  meta.merge(checkpointIdentity(s.model, s.recipe)); // checked on resume
  saveCheckpoint(path, s.step, exec->state(), meta, extra);
  if (path == opts.checkpointPath)
    checkpointKept = true;
  observer.checkpointWritten(path);
}

StopPoint TrainRun::stopPoint() const {
  StopPoint at;
  at.step = p.step;
  at.epoch = p.epoch + 1;
  at.batch = p.batch;
  at.batches = perEpoch;
  at.train = runningMetrics(p, s.realLabels);
  return at;
}

void TrainRun::finishInterrupted() {
  const std::string &path =
      opts.checkpointPath.empty() ? opts.interruptPath : opts.checkpointPath;
  checkpoint(path);
  res.interrupted = true;
  res.interruptCheckpoint = path;
  observer.interrupted(interruptSignal(), stopPoint(), path);
  clearInterrupt();
}

void TrainRun::finishBySteps() {
  observer.stoppedBySteps(stopPoint());
  checkpoint(opts.checkpointPath);
}

Metrics TrainRun::validate(const TensorMap &state) const {
  return evaluateSharded(s.trainer, state, valSet, opts.backend, opts.executor);
}

bool TrainRun::stopAsked() const {
  return dp ? dp->agreedInterrupt() != 0 : interruptRequested();
}

TrainResult TrainRun::result(bool interrupted) {
  TrainResult r = std::move(res);
  r.state = exec->state();
  if (dp)
    r.parallelSummary = dp->summary();
  r.steps = p.step;
  r.epochs = p.epoch;
  r.bestEpoch = p.bestEpoch;
  if (p.samples > 0) { // stopped in an epoch
    r.train = runningMetrics(p, s.realLabels);
    if (hasValidation && !interrupted)
      r.validation = validate(r.state);
  } else if (!r.history.empty()) {
    r.train = r.history.back().train;
    r.validation = r.history.back().validation;
  }
  restoreBest(r);
  return r;
}

void TrainRun::restoreBest(TrainResult &r) {
  const EarlyStop &es = s.recipe.earlyStop;
  if (!es.enabled || !es.restoreBest || best.empty() || p.bestEpoch == p.epoch)
    return;
  for (auto &[name, t] : best)
    r.state[name] = t;
  // The figures reported are those of the weights returned (and saved).
  r.train = r.validation = Metrics();
  for (const EpochStats &st : r.history)
    if (st.epoch == p.bestEpoch) {
      r.train = st.train;
      r.validation = st.validation;
    }
  if (std::isnan(r.validation.loss) && hasValidation)
    r.validation = validate(r.state);
  observer.restoredBest(p.bestEpoch);
}

} // namespace nn
