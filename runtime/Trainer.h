//===- Trainer.h - The training loop ---------------------------*- C++ -*-===//
///
/// \file
/// Mini-batch training of a compiled step graph on a data set: seeded
/// shuffles, a validation split, loss and accuracy per epoch, early stopping,
/// checkpoints that resume exactly, a metrics CSV. Backend-independent: it
/// drives an Executor.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"
#include "runtime/Dataset.h"
#include "runtime/ExecutorOptions.h"
#include "runtime/Tensor.h"
#include "runtime/WeightsFile.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nn {

class TrainObserver;

/// Loss and accuracy over a data set. accuracy is NaN for real labels.
struct Metrics {
  double loss = std::numeric_limits<double>::quiet_NaN();
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  int64_t samples = 0;
};

struct EpochStats {
  int64_t epoch = 0; // 1-based
  int64_t steps = 0; // optimizer steps so far, all epochs
  Metrics train;     // running means over the epoch's batches
  Metrics validation;
  double seconds = 0;
  /// The learning rate of the epoch's last step (the schedule's).
  double lr = 0;
};

struct TrainOptions {
  std::string backend = "interp";
  int64_t maxSteps = -1;          // --steps: stop after this many steps
  std::string checkpointPath;     // written after every epoch
  std::string resumePath;         // --resume
  std::string metricsPath;        // --metrics FILE.csv
  /// Told what happens (runtime/TrainEvents.h); null: warnings go to
  /// stderr, nothing else is shown.
  TrainObserver *observer = nullptr;
  /// How the compiled backends compile and run.
  ExecutorOptions executor;
  /// Where a run stopped by SIGINT/SIGTERM writes its checkpoint when
  /// checkpointPath is empty (the driver passes <model>.interrupted.safetensors).
  std::string interruptPath;
  /// --check-numerics: after every step, re-run it on the interpreter and
  /// check every op's output for NaN and infinities.
  bool checkNumerics = false;
  /// Under mpirun with N > 1 processes (runtime/Distributed.h): the step
  /// without its update (passes/Pipeline.h, gradientsOnly), which the run
  /// splits across the processes (runtime/DataParallel.h). Ignored in one
  /// process.
  const Graph *gradients = nullptr;
};

struct TrainResult {
  std::vector<EpochStats> history;
  TensorMap state;  // parameters and optimizer state at the end
  int64_t steps = 0;  // optimizer steps, all runs of a resumed training
  int64_t epochs = 0; // epochs completed, all runs of a resumed training
  /// Validation metrics of `state` (after early stopping restored the best
  /// weights: that epoch's); NaN when nothing is held out.
  Metrics validation;
  /// Training metrics (running means over the batches) of the epoch whose
  /// weights `state` holds, or of the steps of an epoch cut short.
  Metrics train;
  bool stoppedEarly = false;
  int64_t bestEpoch = 0;
  /// Stopped by SIGINT/SIGTERM after finishing a step; the checkpoint is at
  /// `interruptCheckpoint` (exit with kExitInterrupted).
  bool interrupted = false;
  std::string interruptCheckpoint;
  /// Set when writing the --metrics file failed (the message); training went
  /// on without it, and the caller must report it (exit 1).
  std::string metricsError;
  /// Data-parallel runs: where a step's time went ("" in one process).
  std::string parallelSummary;
};

class Trainer {
public:
  /// `step` is the full training graph (after autodiff and the optimizer
  /// update); `eval` the forward graph with outputs "loss" and "pred".
  /// Evaluation runs evalForm(eval) fused by `evalFusions` (names from
  /// passes/Fuse.h; every fusion when not given), as training runs `step`.
  Trainer(const Graph &step, const Graph &eval, const Recipe &recipe,
          std::optional<std::set<std::string>> evalFusions = std::nullopt);

  /// Trains from `state` (every Param and State leaf) on `data`.
  TrainResult train(TensorMap state, const Dataset &data,
                    const TrainOptions &opts) const;

  /// Loss and accuracy of `state`'s parameters on `data`.
  Metrics evaluate(const TensorMap &state, const Dataset &data,
                   const std::string &backend,
                   const ExecutorOptions &exec = {}) const;

  /// Checks that `data` fits the model's input and label leaves; throws
  /// UserError naming the data source and the leaf otherwise.
  void checkData(const Dataset &data) const;

private:
  Graph stepGraph;
  Graph modelGraph; // evalForm(eval) before fusion: a checkpoint's identity
  Graph evalGraph;
  Recipe recipe;
};

/// Writes a checkpoint atomically (see saveWeights), first keeping the file
/// it replaces as `path.prev` (a hard link, or a copy where links fail), so
/// that a checkpoint found corrupt has an intact predecessor.
void saveCheckpoint(const std::string &path, const Graph &g,
                    const TensorMap &values, const Metadata &metadata,
                    const TensorMap &extra);

/// Runs `g` on the interpreter from `state` and `batch` (Input and Label
/// leaves) and describes the first node, in graph order, whose value holds
/// NaN or infinities once rounded to float32: its op, name, source location,
/// shape and how many values are bad. "" when every value is finite.
/// `help`, when given, receives advice fitted to that origin
/// (runtime/NonFiniteOrigin.h).
std::string findNonFinite(const Graph &g, const TensorMap &state,
                          const TensorMap &batch, std::string *help = nullptr);

/// A batch's features and labels bound to the graph's Input and Label
/// leaves by name, reshaped to their types with N = the rows of `x`.
/// (Taken by value: a caller done with the batch moves it in.)
TensorMap bindBatch(const Graph &g, Tensor x, Tensor y);

/// How many of `pred`'s rows match `labels` (argmax for class labels,
/// p > 0.5 for binary); -1 for real labels.
int64_t countCorrect(const Graph &g, const Tensor &pred, const Tensor &labels);

} // namespace nn
