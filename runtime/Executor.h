//===- Executor.h - Runs a graph on some backend ---------------*- C++ -*-===//
///
/// \file
/// The trainer talks to backends only through this interface. An executor
/// holds the graph's parameters and optimizer state (so a GPU backend can
/// keep them resident), takes a batch, runs the graph once, applies its
/// updates and hands back the named outputs. The reference interpreter is
/// the first backend; the CPU (LLVM) and CUDA backends implement the same.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/ExecutorOptions.h"
#include "runtime/Tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace nn {

/// A run of training steps over a data set (Executor::runSteps): batches
/// first .. first+steps-1 of an epoch whose rows, in order, are `order`
/// (batch i: order[i * batch ...], the last one partial).
struct StepsJob {
  const Graph *graph = nullptr; ///< the step graph (to bind batches)
  /// Every sample and label of the data set, rows first, as loaded (they
  /// passed Trainer::checkData); `order` indexes their rows.
  const Tensor *x = nullptr;
  const Tensor *y = nullptr;
  const std::vector<int64_t> *order = nullptr;
  int64_t batch = 0;
  int64_t first = 0;
  int64_t steps = 0;
  /// The learning rate of each step, written into `lrLeaf` before it; empty:
  /// the leaf is left alone.
  std::vector<double> lr;
  std::string lrLeaf;
};

/// What runSteps hands back, per step run: the loss, and the "pred" rows
/// (step k's at k * batch * predWidth; empty when the graph has no "pred").
struct StepsDone {
  int64_t steps = 0; ///< run: job.steps, or fewer after a non-finite loss
  std::vector<float> loss;
  std::vector<float> pred;
  int64_t predWidth = 0;
};

class Executor {
public:
  virtual ~Executor() = default;
  /// Sets Param and State leaves by name. Every Param and State leaf of the
  /// graph must be present, with its declared shape.
  virtual void setState(const TensorMap &state) = 0;
  /// The current Param and State values.
  virtual const TensorMap &state() const = 0;
  /// Writes `value` into the scalar State leaf `name` of the held state
  /// (the trainer sets the scheduled learning rate, "optimizer.lr", before
  /// each step): no recompilation and no copy of the rest of the state.
  /// After setState; a leaf that is not a scalar State leaf of the graph is
  /// an internal error.
  virtual void setScalar(const std::string &name, double value) = 0;
  /// Binds `batch` (Input and Label leaves by name, leading dimension = the
  /// batch size), runs the graph, applies its updates to the held state and
  /// returns its named outputs.
  virtual TensorMap run(const TensorMap &batch) = 0;
  /// Does the one-time work of batches of up to `maxBatch` rows now (the
  /// compiled backends compile), so that the first run() is a plain step
  /// and the trainer can show and time the compilation on its own. Optional:
  /// run() does it when it was not done.
  virtual void prepare(int64_t maxBatch) {}
  /// Runs the steps of `job`, in order, each exactly as run() with that
  /// batch would (the same bits), stopping after the first whose loss is
  /// not finite. This default binds each batch on the host and calls run();
  /// the CPU backend runs them in one call into generated code.
  virtual StepsDone runSteps(const StepsJob &job);
  /// Whether runSteps is compiled (worth calling for many steps at once);
  /// the trainer keeps its step-by-step loop otherwise.
  virtual bool compiledSteps() const { return false; }
};

/// Names of the backends this build offers ("interp", ...).
std::vector<std::string> backendNames();

/// The backend "auto" stands for: cuda when a CUDA device is there, else cpu
/// when built, else interp. Other names are returned as they are. `why`, when
/// given, receives a short note on a fallback ("no CUDA device: ...").
std::string resolveBackend(const std::string &requested,
                           std::string *why = nullptr);

/// Throws UserError for an unknown or unavailable backend.
void checkBackend(const std::string &backend);

/// An executor for `g` (types known) on `backend`, made with `opts` (the
/// part of them for that backend); throws UserError for an unknown or
/// unavailable backend. The registry lives in runtime/Backends.cpp.
std::unique_ptr<Executor> makeExecutor(const std::string &backend,
                                       const Graph &g,
                                       const ExecutorOptions &opts = {});

/// The reference interpreter as an executor (runtime/InterpExecutor.cpp).
std::unique_ptr<Executor> makeInterpExecutor(const Graph &g);

} // namespace nn
