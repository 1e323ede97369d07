//===- Trainer.cpp - The training loop ------------------------------------===//
///
/// \file
/// Algorithm: for each epoch, the Batcher yields the batches of a permutation
/// that depends on (seed, epoch) alone; each batch runs the step graph once
/// (forward, backward, update). After each epoch: validation metrics, early
/// stopping, a checkpoint. Because batches depend only on (seed, epoch,
/// index), a checkpoint needs just the weights, the optimizer state and
/// those counters to resume bit for bit.
///
/// Faults: SIGINT/SIGTERM (runtime/Signals.h) are polled after each step; the
/// run then writes a checkpoint where it stands and returns `interrupted`.
/// Checkpoints keep their predecessor as FILE.prev. After each step the loss
/// and the new parameters must be finite; when not (or after every step with
/// checkNumerics) the step is re-run on the interpreter from the state
/// before it to name the first op that produced NaN or infinities, and the
/// run stops without writing anything, so the last checkpoint stays good.
///
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/Batcher.h"
#include "runtime/AtomicFile.h"
#include "runtime/Executor.h"
#include "runtime/Interpreter.h"
#include "runtime/MetricsFile.h"
#include "runtime/OutputPaths.h"
#include "runtime/ProgressNotice.h"
#include "runtime/Resume.h"
#include "runtime/Safetensors.h"
#include "runtime/Signals.h"
#include "runtime/WeightsFile.h"

#include <cerrno>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace nn {

namespace {

/// The one Input (or Label) leaf; the data loaders feed exactly one of each.
const Node &singleLeaf(const Graph &g, OpKind kind) {
  std::vector<NodeId> ids = g.leaves(kind);
  if (ids.size() != 1)
    throw UserError("nnc: error: model '" + g.name + "' has " +
                    std::to_string(ids.size()) + " " + mnemonic(kind) +
                    " declarations; training needs exactly one");
  return g[ids[0]];
}

} // namespace

void saveCheckpoint(const std::string &path, const Graph &g,
                    const TensorMap &values, const Metadata &metadata,
                    const TensorMap &extra) {
  // Through a symbolic link, FILE.prev is kept beside the final target;
  // a device or a pipe has no previous version to keep.
  OutputTarget target = resolveOutput(path);
  if (target.kind == OutputKind::Regular) {
    // Keep the current file as FILE.prev, itself replaced atomically: a
    // hard link renamed into place, or a copy where links are not possible.
    const std::string &file = target.path;
    std::string prev = file + ".prev";
    std::string tmp = prev + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    if (::link(file.c_str(), tmp.c_str()) == 0) {
      if (::rename(tmp.c_str(), prev.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw UserError(prev + ": error: cannot keep the previous "
                               "checkpoint: " +
                        std::strerror(err));
      }
    } else {
      std::ifstream in(file, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
      if (!in.eof() && in.fail())
        throw UserError(path + ": error: cannot read the previous checkpoint");
      writeFileAtomic(prev, bytes);
    }
  }
  saveWeights(path, g, values, metadata, true, extra);
}

namespace {

/// Steps between copies of the state kept to explain a non-finite step.
constexpr int64_t kSnapshotSteps = 64;

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

} // namespace

TensorMap bindBatch(const Graph &g, Tensor x, Tensor y) {
  const Node &in = singleLeaf(g, OpKind::Input);
  const Node &label = singleLeaf(g, OpKind::Label);
  int64_t rows = x.rank() ? x.shape[0] : 0;
  TensorMap out;
  int64_t xn = x.numel(), yn = y.numel();
  Tensor xs = std::move(x), ys = std::move(y);
  xs.shape = in.type.dims;
  xs.shape[0] = rows;
  ys.shape = label.type.dims;
  ys.shape[0] = rows;
  NN_ASSERT(xs.numel() == xn && ys.numel() == yn,
            "batch does not fit the model (checkData should have caught it)");
  out[in.name] = std::move(xs);
  out[label.name] = std::move(ys);
  return out;
}

static bool isRealLabel(const Graph &g) {
  return singleLeaf(g, OpKind::Label).labelKind == LabelKind::Real;
}

int64_t countCorrect(const Graph &g, const Tensor &pred, const Tensor &labels) {
  const Node &label = singleLeaf(g, OpKind::Label);
  int64_t rows = labels.shape.empty() ? 0 : labels.shape[0];
  if (rows == 0)
    return 0;
  int64_t width = pred.numel() / rows;
  int64_t correct = 0;
  switch (label.labelKind) {
  case LabelKind::Class:
    for (int64_t r = 0; r < rows; ++r) {
      int64_t best = 0;
      for (int64_t c = 1; c < width; ++c)
        if (pred[r * width + c] > pred[r * width + best])
          best = c;
      correct += best == static_cast<int64_t>(labels[r]);
    }
    return correct;
  case LabelKind::Binary:
    for (int64_t r = 0; r < rows; ++r)
      correct += (pred[r * width] > 0.5f) == (labels[r] > 0.5f);
    return correct;
  case LabelKind::Real:
    return -1;
  }
  NN_UNREACHABLE("bad LabelKind");
}

Trainer::Trainer(const Graph &step, const Graph &eval, const Recipe &r)
    : stepGraph(step), evalGraph(eval), recipe(r) {}

void Trainer::checkData(const Dataset &data) const {
  const Node &in = singleLeaf(evalGraph, OpKind::Input);
  const Node &label = singleLeaf(evalGraph, OpKind::Label);
  int64_t n = data.size();
  if (n == 0)
    throw UserError(data.source + ": error: the data set is empty");
  int64_t features = data.x.numel() / n;
  if (features != in.type.numelPerSample())
    throw UserError(data.source + ": error: samples have " +
                    std::to_string(features) + " values, but input '" +
                    in.name + "' " +
                    (in.loc.valid() ? "(" + in.loc.str() + ") " : "") +
                    "takes " + std::to_string(in.type.numelPerSample()));
  if (!data.hasLabels)
    return; // features only, for prediction
  int64_t labelWidth = data.y.numel() / n;
  if (labelWidth != label.type.numelPerSample())
    throw UserError(
        (data.labelSource.empty() ? data.source : data.labelSource) +
        ": error: labels have " + std::to_string(labelWidth) +
        " values per sample, but '" + label.name + "' takes " +
        std::to_string(label.type.numelPerSample()));
  for (int64_t i = 0; i < data.y.numel(); ++i) {
    float v = data.y[i];
    bool ok = true;
    std::string want;
    switch (label.labelKind) {
    case LabelKind::Class:
      ok = v >= 0 && v < label.classes && v == std::floor(v);
      want = "a class id in 0.." + std::to_string(label.classes - 1);
      break;
    case LabelKind::Binary:
      ok = v == 0 || v == 1;
      want = "0 or 1";
      break;
    case LabelKind::Real:
      ok = std::isfinite(v);
      want = "a finite number";
      break;
    }
    if (!ok) {
      std::ostringstream os;
      os << labelErrorPrefix(data, i) << " is not " << want << " (label '"
         << label.name << "')";
      throw UserError(os.str());
    }
  }
}

Metrics Trainer::evaluate(const TensorMap &state, const Dataset &data,
                          const std::string &backend) const {
  std::unique_ptr<Executor> exec = makeExecutor(backend, evalGraph);
  TensorMap params;
  for (NodeId id : evalGraph.leaves(OpKind::Param))
    params[evalGraph[id].name] = state.at(evalGraph[id].name);
  exec->setState(params);
  std::vector<int64_t> all(static_cast<size_t>(data.size()));
  for (int64_t i = 0; i < data.size(); ++i)
    all[i] = i;
  Batcher batcher(data, all, std::max<int64_t>(recipe.batch, 256), false, 0);
  Metrics m;
  double lossSum = 0;
  int64_t correct = 0;
  for (int64_t b = 0; b < batcher.batchesPerEpoch(); ++b) {
    Batch batch = batcher.get(0, b);
    TensorMap out = exec->run(bindBatch(evalGraph, std::move(batch.x), batch.y));
    lossSum += out.at("loss")[0] * batch.size;
    correct += countCorrect(evalGraph, out.at("pred"), batch.y);
    m.samples += batch.size;
  }
  m.loss = lossSum / m.samples;
  if (!isRealLabel(evalGraph))
    m.accuracy = static_cast<double>(correct) / m.samples;
  return m;
}

namespace {

/// Where a run stands: enough to resume it exactly.
struct Progress {
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

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Metadata progressMetadata(const Progress &p, const Recipe &r) {
  return {{"format", "nnc-checkpoint-1"},
          {"epoch", std::to_string(p.epoch)},
          {"batch", std::to_string(p.batch)},
          {"step", std::to_string(p.step)},
          {"loss_sum", num(p.lossSum)},
          {"correct", std::to_string(p.correct)},
          {"samples", std::to_string(p.samples)},
          {"best_loss", num(p.bestLoss)},
          {"best_epoch", std::to_string(p.bestEpoch)},
          {"bad_epochs", std::to_string(p.badEpochs)},
          {"seed", std::to_string(r.seed)},
          {"batch_size", std::to_string(r.batch)},
          {"validation", num(r.validation)}};
}

const std::string &metaField(const Metadata &m, const std::string &key,
                             const std::string &path) {
  auto it = m.find(key);
  if (it == m.end())
    throw UserError(path + ": error: not an nnc checkpoint (no '" + key +
                    "' in its metadata)");
  return it->second;
}

Progress readProgress(const Metadata &m, const Recipe &r,
                      const std::string &path) {
  auto integer = [&](const std::string &key) {
    const std::string &v = metaField(m, key, path);
    try {
      return static_cast<int64_t>(std::stoll(v));
    } catch (const std::exception &) {
      throw UserError(path + ": error: bad checkpoint field " + key + " '" + v +
                      "'");
    }
  };
  auto real = [&](const std::string &key) {
    const std::string &v = metaField(m, key, path);
    try {
      return std::stod(v);
    } catch (const std::exception &) {
      throw UserError(path + ": error: bad checkpoint field " + key + " '" + v +
                      "'");
    }
  };
  if (integer("batch_size") != r.batch ||
      static_cast<uint64_t>(integer("seed")) != r.seed ||
      real("validation") != r.validation)
    throw UserError(path + ": error: the checkpoint was written with batch " +
                    metaField(m, "batch_size", path) + ", seed " +
                    metaField(m, "seed", path) + " and validation " +
                    metaField(m, "validation", path) +
                    "; resume with the same settings to continue exactly");
  Progress p;
  p.epoch = integer("epoch");
  p.batch = integer("batch");
  p.step = integer("step");
  p.lossSum = real("loss_sum");
  p.correct = integer("correct");
  p.samples = integer("samples");
  p.bestLoss = real("best_loss");
  p.bestEpoch = integer("best_epoch");
  p.badEpochs = integer("bad_epochs");
  return p;
}

/// The message of a step that produced NaN or infinities.
std::string numericsError(const Progress &p, double loss,
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
    os << "; the last good checkpoint '" << opts.checkpointPath
       << "' is kept";
  else if (!opts.checkpointPath.empty())
    os << "; no checkpoint was written";
  os << "\nnnc: help: "
     << (help.empty() ? "check the data for NaN, or try a smaller learning rate"
                      : help);
  return os.str();
}

std::string fixed(double v, int digits = 4) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

/// "1:05" or "2:03:07".
std::string clockText(double seconds) {
  int64_t t = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char buf[40];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld",
                  static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60),
                  static_cast<long long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld",
                  static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

/// The progress bar line (without the leading carriage return):
/// "epoch 2/10 [=====>    ] 420/844 loss 0.4123 acc 85.20% 12345 samples/s
/// ETA 0:35".
std::string progressLine(int64_t epoch, int64_t epochs, int64_t done,
                         int64_t total, double loss, double acc,
                         double samplesPerSec, double eta, bool color) {
  const int width = 24;
  int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width)
    bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
  std::ostringstream os;
  os << "epoch " << epoch << "/" << epochs << " ["
     << (color ? "\x1b[32m" : "") << bar << (color ? "\x1b[0m" : "") << "] "
     << done << "/" << total << "  loss " << fixed(loss);
  if (!std::isnan(acc))
    os << "  acc " << percent(acc);
  if (std::isnan(samplesPerSec))
    os << "  - samples/s  ETA -";
  else
    os << "  " << static_cast<int64_t>(samplesPerSec) << " samples/s  ETA "
       << clockText(eta);
  return os.str();
}

} // namespace

TrainResult Trainer::train(TensorMap state, const Dataset &data,
                           const TrainOptions &opts) const {
  using Clock = std::chrono::steady_clock;
  checkData(data);
  auto [trainRows, valRows] = splitValidation(
      data.size(), recipe.validation, recipe.seed,
      recipe.validationLoc.valid() ? recipe.validationLoc.str() : "nnc");
  if (trainRows.empty())
    throw UserError(data.source + ": error: no training samples left after "
                    "holding out " + percent(recipe.validation) +
                    " for validation");
  Batcher batcher(data, trainRows, recipe.batch, recipe.shuffle, recipe.seed);
  Dataset valSet = selectRows(data, valRows);
  bool realLabels = isRealLabel(evalGraph);

  Progress p;
  TensorMap best;
  if (!opts.resumePath.empty()) {
    LoadedWeights lw;
    try {
      bool noMomentum =
          trainedWithoutMomentum(requireCheckpoint(opts.resumePath));
      lw = loadWeights(opts.resumePath, stepGraph, !noMomentum, {"best."});
    } catch (const UserError &e) {
      std::string prev = opts.resumePath + ".prev";
      bool prevOk = false;
      try {
        loadWeights(prev, stepGraph, true, {"best."});
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
    p = readProgress(lw.metadata, recipe, opts.resumePath);
    checkResumeIdentity(lw.metadata, opts.resumePath, evalGraph, recipe,
                        opts.log ? opts.log : &std::cerr);
    for (auto &[name, t] : lw.extra)
      best[name.substr(5)] = t;
  }
  std::unique_ptr<Executor> exec = makeExecutor(opts.backend, stepGraph);
  exec->setState(state);
  // The one-time compile, timed apart from the first epoch (whose line says
  // how long it took); a terminal sees it happen when it takes a while.
  double compileSeconds = 0;
  {
    ProgressNotice notice(opts.progressBar ? opts.log : nullptr,
                          "compiling " + stepGraph.name + " for " +
                              opts.backend);
    Clock::time_point t0 = Clock::now();
    exec->prepare(recipe.batch);
    compileSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  const int64_t firstEpoch = p.epoch + 1;

  // Nothing is written before the first epoch ends. A write that fails
  // stops the metrics, not the run: the result's metricsError says why.
  std::optional<MetricsFile> metrics;
  if (!opts.metricsPath.empty())
    metrics.emplace(opts.metricsPath,
                    "epoch,step,train_loss,train_accuracy,val_loss,"
                    "val_accuracy,seconds",
                    !opts.resumePath.empty());
  TrainResult result;
  auto addMetrics = [&](int64_t epoch, const std::string &line) {
    try {
      metrics->addLine(line);
    } catch (const UserError &e) {
      metrics.reset();
      result.metricsError = e.what();
      if (opts.log) // the error itself comes at the end, with the others
        *opts.log << "nnc: warning: cannot write --metrics from epoch "
                  << epoch << " on; training goes on" << std::endl;
    }
  };
  // Whether opts.checkpointPath holds a checkpoint of this run (or the one
  // it resumed from) that a failure below leaves as the last good one.
  bool checkpointKept = !opts.checkpointPath.empty() &&
                        !opts.resumePath.empty() &&
                        sameFile(opts.checkpointPath, opts.resumePath);

  auto checkpoint = [&](const std::string &path) {
    if (path.empty())
      return;
    TensorMap extra;
    for (auto &[name, t] : best)
      extra["best." + name] = t;
    Metadata meta = progressMetadata(p, recipe);
    meta.merge(checkpointIdentity(evalGraph, recipe)); // checked on resume
    saveCheckpoint(path, stepGraph, exec->state(), meta, extra);
    if (path == opts.checkpointPath)
      checkpointKept = true;
  };
  InterruptScope interruptScope;
  bool interrupted = false;

  bool stoppedBySteps = false;
  const int64_t perEpoch = batcher.batchesPerEpoch();
  warnAboutLength(opts.log ? *opts.log : std::cerr, p.epoch, p.batch, p.step,
                  perEpoch, recipe.epochs, opts.maxSteps, opts.resumePath);
  TensorMap snapshot; // the state before step snapBatch of epoch snapEpoch
  int64_t snapEpoch = -1, snapBatch = 0;
  Clock::time_point lastDrawn = Clock::now();
  bool barShown = false;
  auto eraseBar = [&] {
    if (opts.log && barShown)
      *opts.log << "\r\x1b[K" << std::flush;
    barShown = false;
  };
  while (p.epoch < recipe.epochs) {
    Clock::time_point start = Clock::now();
    int64_t epochStartBatch = p.batch, firstSamples = p.samples;
    Clock::time_point firstDone = start;
    for (; p.batch < batcher.batchesPerEpoch(); ++p.batch) {
      if (opts.maxSteps >= 0 && p.step >= opts.maxSteps) {
        stoppedBySteps = true;
        break;
      }
      Batch batch = batcher.get(p.epoch, p.batch);
      TensorMap feed = bindBatch(stepGraph, std::move(batch.x), batch.y);
      // A non-finite step is explained from the state before it. Copying
      // the state before every step would cost as much as a small step, so
      // it is copied every kSnapshotSteps steps (every step with
      // --check-numerics) and, when needed, the steps since are replayed
      // (a step is a function of the state and the batch).
      if (opts.checkNumerics || snapEpoch != p.epoch ||
          p.batch - snapBatch >= kSnapshotSteps) {
        snapshot = exec->state();
        snapEpoch = p.epoch;
        snapBatch = p.batch;
      }
      TensorMap out = exec->run(feed);
      double loss = out.at("loss")[0];
      // The parameters are scanned for NaN and infinities where a snapshot
      // is due, before anything is written (an epoch's end, an interrupt,
      // the last step) and with --check-numerics; the loss after every
      // step. A bad value found late is traced back below.
      bool lastStep = p.batch + 1 == perEpoch ||
                      (opts.maxSteps >= 0 && p.step + 1 >= opts.maxSteps);
      bool scan = opts.checkNumerics || lastStep || interruptRequested() ||
                  p.batch + 1 - snapBatch >= kSnapshotSteps;
      bool bad = !std::isfinite(loss) || (scan && !allFinite(exec->state()));
      if (bad) {
        // Replay from the snapshot, one step at a time (a step is a
        // function of the state and the batch), to the first step whose
        // loss or parameters are not finite; explain it from its state.
        eraseBar();
        exec->setState(snapshot);
        Progress at = p;
        at.step -= p.batch - snapBatch;
        for (at.batch = snapBatch;; ++at.batch, ++at.step) {
          TensorMap before = exec->state();
          Batch b = batcher.get(p.epoch, at.batch);
          TensorMap f = bindBatch(stepGraph, b.x, b.y);
          double l = exec->run(f).at("loss")[0];
          if (at.batch == p.batch || !std::isfinite(l) ||
              !allFinite(exec->state())) {
            std::string help;
            std::string first = findNonFinite(stepGraph, before, f, &help);
            throw UserError(
                numericsError(at, l, first, help, opts, checkpointKept));
          }
        }
      }
      if (opts.checkNumerics) { // every op, from the state before this step
        std::string help;
        std::string first = findNonFinite(stepGraph, snapshot, feed, &help);
        if (!first.empty()) {
          eraseBar();
          throw UserError(
              numericsError(p, loss, first, help, opts, checkpointKept));
        }
      }
      p.lossSum += loss * batch.size;
      p.correct += countCorrect(stepGraph, out.at("pred"), batch.y);
      p.samples += batch.size;
      ++p.step;
      Clock::time_point now = Clock::now();
      // Rates are timed from the end of the epoch's first step, which may
      // include one-time work (JIT compilation, caches warming up).
      if (p.batch == epochStartBatch) {
        firstDone = now;
        firstSamples = p.samples;
      }
      if (opts.log && opts.progressBar &&
          (now - lastDrawn > std::chrono::milliseconds(100) ||
           p.batch + 1 == perEpoch)) {
        lastDrawn = now;
        double elapsed = std::chrono::duration<double>(now - firstDone).count();
        int64_t timed = p.batch - epochStartBatch; // steps since firstDone
        int64_t left = (recipe.epochs - p.epoch - 1) * perEpoch +
                       (perEpoch - p.batch - 1);
        double acc = realLabels ? std::nan("")
                                : static_cast<double>(p.correct) /
                                      std::max<int64_t>(1, p.samples);
        double rate = timed > 0 ? static_cast<double>(p.samples - firstSamples) /
                                      std::max(elapsed, 1e-9)
                                : std::nan("");
        double eta = timed > 0 ? elapsed / static_cast<double>(timed) *
                                     static_cast<double>(left)
                               : std::nan("");
        *opts.log << "\r"
                  << progressLine(p.epoch + 1, recipe.epochs, p.batch + 1,
                                  perEpoch,
                                  p.lossSum / std::max<int64_t>(1, p.samples),
                                  acc, rate, eta, opts.color)
                  << "\x1b[K" << std::flush;
        barShown = true;
      }
      if (interruptRequested()) {
        interrupted = true;
        ++p.batch; // this batch is done
        break;
      }
    }
    if (stoppedBySteps || interrupted)
      eraseBar();
    if (stoppedBySteps || interrupted)
      break; // possibly mid-epoch: p says where to resume
    EpochStats st;
    st.epoch = p.epoch + 1;
    st.steps = p.step;
    st.train.samples = p.samples;
    st.train.loss = p.lossSum / std::max<int64_t>(1, p.samples);
    if (!realLabels)
      st.train.accuracy = static_cast<double>(p.correct) /
                          std::max<int64_t>(1, p.samples);
    if (!valRows.empty())
      st.validation = evaluate(exec->state(), valSet, opts.backend);
    st.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.history.push_back(st);

    // On a terminal (where the bar shows the progress), long runs of short
    // epochs keep about 20 lines; logs get one line per epoch.
    int64_t every = opts.progressBar
                        ? std::max<int64_t>(1, (recipe.epochs + 19) / 20)
                        : 1;
    bool show = st.epoch % every == 0 || st.epoch == 1 ||
                st.epoch == recipe.epochs;
    eraseBar();
    if (opts.log && show) {
      std::ostringstream line;
      line << "epoch " << st.epoch << "/" << recipe.epochs << "  loss "
           << fixed(st.train.loss);
      if (!realLabels)
        line << "  acc " << percent(st.train.accuracy);
      if (!valRows.empty()) {
        line << "  val_loss " << fixed(st.validation.loss);
        if (!realLabels)
          line << "  val_acc " << percent(st.validation.accuracy);
      }
      line << "  " << fixed(st.seconds, 1) << "s  "
           << static_cast<int64_t>(p.samples / std::max(st.seconds, 1e-9))
           << " samples/s";
      if (st.epoch == firstEpoch && compileSeconds >= 0.1)
        line << "  (compiled in " << fixed(compileSeconds, 1) << "s)";
      *opts.log << line.str() << std::endl;
    }
    if (metrics) {
      std::ostringstream line;
      line << st.epoch << ',' << st.steps << ',' << num(st.train.loss) << ','
           << num(st.train.accuracy) << ',' << num(st.validation.loss) << ','
           << num(st.validation.accuracy) << ',' << num(st.seconds);
      addMetrics(st.epoch, line.str());
    }

    // Early stopping watches the validation loss (the training loss when
    // nothing is held out).
    double watched = valRows.empty() ? st.train.loss : st.validation.loss;
    bool stopNow = false;
    if (recipe.earlyStop.enabled) {
      if (watched < p.bestLoss - recipe.earlyStop.minDelta) {
        p.bestLoss = watched;
        p.bestEpoch = st.epoch;
        p.badEpochs = 0;
        if (recipe.earlyStop.restoreBest)
          best = exec->state();
      } else if (++p.badEpochs >= recipe.earlyStop.patience) {
        stopNow = result.stoppedEarly = true;
        if (opts.log)
          *opts.log << "early stop: no improvement of the "
                    << (valRows.empty() ? "training" : "validation")
                    << " loss for " << p.badEpochs << " epochs; best epoch "
                    << p.bestEpoch << std::endl;
      }
    }
    ++p.epoch;
    p.batch = 0;
    p.lossSum = 0;
    p.correct = 0;
    p.samples = 0;
    checkpoint(opts.checkpointPath);
    if (stopNow)
      break;
    if (p.epoch < recipe.epochs && interruptRequested()) { // validating
      interrupted = true;
      break;
    }
  }
  if (interrupted) {
    const std::string &path =
        opts.checkpointPath.empty() ? opts.interruptPath : opts.checkpointPath;
    checkpoint(path);
    result.interrupted = true;
    result.interruptCheckpoint = path;
    if (opts.log) {
      *opts.log << "interrupted by signal " << interruptSignal() << " after "
                << p.step << " steps (epoch " << p.epoch + 1 << ", batch "
                << p.batch << "/" << batcher.batchesPerEpoch() << ")";
      if (!path.empty())
        *opts.log << "; checkpoint written to " << path
                  << "; continue with --resume " << path;
      *opts.log << std::endl;
    }
    clearInterrupt();
  }
  if (stoppedBySteps) {
    if (opts.log && p.samples > 0) {
      *opts.log << "stopped after " << p.step << " steps (epoch "
                << p.epoch + 1 << ", batch " << p.batch << "/"
                << batcher.batchesPerEpoch() << ")  loss "
                << fixed(p.lossSum / p.samples);
      if (!realLabels)
        *opts.log << "  acc "
                  << percent(static_cast<double>(p.correct) / p.samples);
      *opts.log << std::endl;
    }
    checkpoint(opts.checkpointPath);
  }
  result.state = exec->state();
  result.steps = p.step;
  result.epochs = p.epoch;
  result.bestEpoch = p.bestEpoch;
  if (p.samples > 0) { // stopped in an epoch
    result.train.samples = p.samples;
    result.train.loss = p.lossSum / static_cast<double>(p.samples);
    if (!realLabels)
      result.train.accuracy =
          static_cast<double>(p.correct) / static_cast<double>(p.samples);
    if (!valRows.empty() && !interrupted)
      result.validation = evaluate(result.state, valSet, opts.backend);
  } else if (!result.history.empty()) {
    result.train = result.history.back().train;
    result.validation = result.history.back().validation;
  }
  if (recipe.earlyStop.enabled && recipe.earlyStop.restoreBest &&
      !best.empty() && p.bestEpoch != p.epoch) {
    for (auto &[name, t] : best)
      result.state[name] = t;
    // The figures reported are those of the weights returned (and saved).
    result.train = result.validation = Metrics();
    for (const EpochStats &st : result.history)
      if (st.epoch == p.bestEpoch) {
        result.train = st.train;
        result.validation = st.validation;
      }
    if (std::isnan(result.validation.loss) && !valRows.empty())
      result.validation = evaluate(result.state, valSet, opts.backend);
    if (opts.log)
      *opts.log << "restored the weights of epoch " << p.bestEpoch
                << std::endl;
  }
  return result;
}

} // namespace nn
