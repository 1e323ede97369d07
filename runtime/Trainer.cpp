//===- Trainer.cpp - The training loop ------------------------------------===//
///
/// \file
/// What a training run needs around its loop (runtime/TrainRun.cpp): data
/// checks, batches bound to the graph's leaves, accuracy, evaluation, and
/// checkpoints that keep their predecessor as FILE.prev and record where the
/// run stands.
///
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/EvalForm.h"
#include "passes/Fuse.h"
#include "runtime/AtomicFile.h"
#include "runtime/Batcher.h"
#include "runtime/Executor.h"
#include "runtime/OutputPaths.h"
#include "runtime/TrainRun.h"
#include "runtime/WeightsFile.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
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

/// " (1 x 28 x 28)" for an input of rank > 1 per sample, whose rows are
/// laid out in that shape (IDX images, CSV rows); "" otherwise.
static std::string imageShape(const TensorType &t) {
  if (t.rank() <= 2)
    return "";
  std::string s;
  for (size_t i = 1; i < t.dims.size(); ++i)
    s += (i > 1 ? " x " : "") + std::to_string(t.dims[i]);
  return " (" + s + ")";
}

// Validation and test metrics run the evaluation form (passes/EvalForm.h):
// no dropout, batch norm on its running statistics, no updates; then the
// fusions (batch norm folded into the convolution before it, conv + act).
Trainer::Trainer(const Graph &step, const Graph &eval, const Recipe &r,
                 std::optional<std::set<std::string>> evalFusions)
    : stepGraph(step), recipe(r) {
  FusionLog log;
  if (!evalFusions)
    evalFusions.emplace(fusionNames().begin(), fusionNames().end());
  modelGraph = evalForm(eval);
  evalGraph = fuse(modelGraph, *evalFusions, log);
}

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
                    "takes " + std::to_string(in.type.numelPerSample()) +
                    imageShape(in.type));
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
                          const std::string &backend,
                          const ExecutorOptions &options) const {
  std::unique_ptr<Executor> exec = makeExecutor(backend, evalGraph, options);
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

std::string num(double v) { return fmt::format("{:.17g}", v); }

} // namespace

Metadata progressMetadata(const RunProgress &p, const Recipe &r) {
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

namespace {

const std::string &metaField(const Metadata &m, const std::string &key,
                             const std::string &path) {
  auto it = m.find(key);
  if (it == m.end())
    throw UserError(path + ": error: not an nnc checkpoint (no '" + key +
                    "' in its metadata)");
  return it->second;
}

} // namespace

RunProgress readProgress(const Metadata &m, const Recipe &r,
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
  RunProgress p;
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

TrainResult Trainer::train(TensorMap state, const Dataset &data,
                           const TrainOptions &opts) const {
  checkData(data);
  TrainRun run({*this, stepGraph, evalGraph, modelGraph, recipe,
                isRealLabel(evalGraph)},
               data, opts);
  return run.run(std::move(state));
}

} // namespace nn
