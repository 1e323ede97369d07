//===- DataParallel.h - One step on N processes ----------------*- C++ -*-===//
///
/// \file
/// Data-parallel training under mpirun (runtime/Distributed.h). The step is
/// split in two programs: the gradients (forward and backward, outputs
/// "loss", "pred" and "grad.<param>", no update) and the update (the
/// recipe's optimizer, reading the gradients from State leaves
/// "dp.grad.<param>"). DataParallelExecutor is an Executor over the global
/// batch, so the training loop (runtime/TrainRun.cpp) runs unchanged: each
/// rank runs the gradients on its shard of the batch, the shards' gradients
/// are summed in rank order, and every rank applies the same update.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"
#include "runtime/Dataset.h"
#include "runtime/Executor.h"
#include "runtime/Trainer.h"

#include <memory>
#include <string>

namespace nn {

/// The prefix of the update program's gradient leaves.
constexpr const char *kGradLeafPrefix = "dp.grad.";

/// The update program of `grads` (a graph with "grad.<param>" outputs): a
/// Param leaf per trained parameter, a State leaf "dp.grad.<param>" for its
/// gradient, and `spec`'s update (clipping included), shapes inferred,
/// fused. Its state leaves (less the gradients) are those of the full step.
Graph buildUpdateGraph(const Graph &grads, const OptimizerSpec &spec);

/// Time spent so far, for the communication share of a step.
struct DataParallelTimes {
  double compute = 0; ///< the gradients on this rank's shard
  double reduce = 0;  ///< the all-gathers and the sums
  double update = 0;  ///< the optimizer's update
  int64_t steps = 0;
  int64_t bytes = 0; ///< bytes each rank sent per step
};

class DataParallelExecutor : public Executor {
public:
  DataParallelExecutor(const Graph &grads, const OptimizerSpec &spec,
                       const std::string &backend, const ExecutorOptions &o);
  ~DataParallelExecutor() override;
  void setState(const TensorMap &state) override;
  const TensorMap &state() const override { return held; }
  void setScalar(const std::string &name, double value) override;
  /// `batch` is the global batch (the same on every rank); the outputs are
  /// those of the global batch: "loss" its mean, "pred" all its rows.
  TensorMap run(const TensorMap &batch) override;
  void prepare(int64_t maxBatch) override;
  /// The interrupt every rank agreed on at the last step: the signal, 0
  /// when none. Ranks poll this, not their own flag, so that all of them
  /// stop after the same step.
  int agreedInterrupt() const { return agreed; }
  const DataParallelTimes &times() const { return t; }
  /// "2 processes, per step: gradients 4.1 ms, reduction 0.9 ms (16%), ..."
  std::string summary() const;

private:
  struct Programs;
  TensorMap gatherShard(const TensorMap &batch, int64_t rows, int64_t &n);
  void applyUpdate(const std::vector<float> &sum);
  /// "loss" and "pred" of the global batch from the small blocks.
  TensorMap globalOutputs(const std::vector<float> &all, size_t block,
                          int64_t rows, double lossSum) const;

  std::unique_ptr<Programs> prog;
  TensorMap held;
  int agreed = 0;
  DataParallelTimes t;
};

/// Loss and accuracy of `state` on `data`, each rank evaluating its
/// contiguous shard of the rows and the sums added in rank order; the same
/// as trainer.evaluate in one process.
Metrics evaluateSharded(const Trainer &trainer, const TensorMap &state,
                        const Dataset &data, const std::string &backend,
                        const ExecutorOptions &exec);
/// The same when each rank holds only its shard, `mine`: rows
/// shardRange(n, N, rank) of the n rows (tools/Driver.h loadShard), maybe
/// none.
Metrics evaluateShard(const Trainer &trainer, const TensorMap &state,
                      const Dataset &mine, const std::string &backend,
                      const ExecutorOptions &exec);

} // namespace nn
