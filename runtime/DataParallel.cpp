//===- DataParallel.cpp - One step on N processes -------------------------===//
///
/// \file
/// Algorithm: rank r of N takes rows shardRange(B, N, r) of the global batch
/// of B rows and runs the gradients program on them: the mean loss of its
/// n_r rows and that mean's gradients. A small MPI_Allgather hands every
/// rank every rank's "pred" rows, loss, row count n_r and pending
/// interrupt. The gradients are summed by a reduce-scatter with a fixed
/// order (MPI_Alltoall of N slices, rank j adding slice j of every rank in
/// rank order, in double, rank r weighted by n_r / B) and an MPI_Allgather
/// of the summed slices: 2 (N-1)/N of the gradient bytes per rank, as a
/// ring all-reduce, but each value is summed in the same order on every
/// run. The weights make the sum the gradient of the global batch's mean
/// (an l2 term, added to every shard's loss, comes out once: the weights
/// add up to 1). Then every rank runs
/// the same update program on the same sum: the parameters stay equal on
/// every rank, bit for bit, with no broadcast. With --backend=cuda and
/// libnccl, the same sum runs on the GPUs (runtime/DeviceReduce.h).
///
/// Buffers the forward pass writes (batch norm's running statistics) travel
/// behind the gradients and are averaged with the same weights, so they
/// stay equal on every rank too. Each rank normalizes with its own shard's
/// batch statistics (as PyTorch's DistributedDataParallel without
/// SyncBatchNorm); the averaged running mean is the global batch's, the
/// running variance the mean of the shards' (the spread between the shard
/// means is left out).
///
//===----------------------------------------------------------------------===//

#include "runtime/DataParallel.h"

#include "ir/Diagnostics.h"
#include "ir/Support.h"
#include "passes/DCE.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "passes/optim/Optimizer.h"
#include "runtime/DeviceReduce.h"
#include "runtime/Distributed.h"
#include "runtime/Sharding.h"
#include "runtime/Signals.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

namespace nn {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool isGradLeaf(const std::string &name) {
  return name.rfind(kGradLeafPrefix, 0) == 0;
}

/// Rows [begin, end) of a tensor whose first dimension is the batch.
Tensor sliceRows(const Tensor &t, int64_t rows, int64_t begin, int64_t end) {
  Tensor out = t;
  int64_t width = rows ? t.numel() / rows : 0;
  out.shape[0] = end - begin;
  out.data.assign(t.data.begin() + begin * width, t.data.begin() + end * width);
  return out;
}

} // namespace

Graph buildUpdateGraph(const Graph &grads, const OptimizerSpec &spec) {
  Graph u;
  u.name = grads.name + "_update";
  for (const Output &o : grads.outputs) {
    if (o.name.rfind("grad.", 0) != 0)
      continue;
    std::string param = o.name.substr(5);
    auto id = grads.findLeaf(OpKind::Param, param);
    NN_ASSERT(id, "gradient of a missing param '" + param + "'");
    Node p = grads[*id];
    p.inputs.clear();
    u.add(p);
    Node g;
    g.op = OpKind::State;
    g.type = p.type;
    g.name = kGradLeafPrefix + param;
    g.loc = p.loc;
    u.outputs.push_back({o.name, u.add(g)});
  }
  // Dropout reads the step count, which the update advances.
  if (auto step = grads.findLeaf(OpKind::State, kStepLeaf)) {
    Node s = grads[*step];
    s.inputs.clear();
    u.add(s);
  }
  DiagEngine diags;
  Graph g = inferShapes(applyOptimizer(u, spec), diags);
  FusionLog log;
  return dce(fuse(g, {fusionNames().begin(), fusionNames().end()}, log));
}

struct DataParallelExecutor::Programs {
  Graph grads, update;
  std::unique_ptr<Executor> gradExec, updExec;
  std::vector<std::string> params; // with a gradient, in output order
  size_t gradValues = 0;           // their values, all together
  std::vector<std::string> buffers; // written by the forward pass
  size_t bufferValues = 0;          // their values, after the gradients
  int64_t predWidth = 0;
  std::string input, label;        // the batch's leaves
  TensorMap gradState, updState;
  std::unique_ptr<DeviceReduce> device; // the sum on the GPUs, or null
};

DataParallelExecutor::DataParallelExecutor(const Graph &grads,
                                           const OptimizerSpec &spec,
                                           const std::string &backend,
                                           const ExecutorOptions &o)
    : prog(std::make_unique<Programs>()) {
  prog->grads = grads;
  for (const Update &u : grads.updates) {
    const Node &b = grads[u.target];
    prog->buffers.push_back(b.name);
    prog->bufferValues += static_cast<size_t>(b.type.numel());
  }
  prog->update = buildUpdateGraph(grads, spec);
  for (const Output &out : grads.outputs) {
    const Node &n = grads[out.node];
    if (out.name.rfind("grad.", 0) == 0) {
      prog->params.push_back(out.name.substr(5));
      NN_ASSERT(!n.type.hasBatch(), "a gradient with a batch dimension");
      prog->gradValues += static_cast<size_t>(n.type.numel());
    }
    if (out.name == "pred")
      prog->predWidth = n.type.numelPerSample();
  }
  prog->input = grads[grads.leaves(OpKind::Input).at(0)].name;
  prog->label = grads[grads.leaves(OpKind::Label).at(0)].name;
  prog->gradExec = makeExecutor(backend, prog->grads, o);
  prog->updExec = makeExecutor(backend, prog->update, o);
  prog->device = makeDeviceReduce(backend, grads, prog->params,
                                  *prog->gradExec, *prog->updExec);
}

DataParallelExecutor::~DataParallelExecutor() = default;

void DataParallelExecutor::setState(const TensorMap &state) {
  held = state;
  prog->gradState.clear();
  prog->updState.clear();
  for (OpKind k : {OpKind::Param, OpKind::State}) {
    for (NodeId id : prog->grads.leaves(k))
      prog->gradState[prog->grads[id].name] = state.at(prog->grads[id].name);
    for (NodeId id : prog->update.leaves(k)) {
      const Node &n = prog->update[id];
      prog->updState[n.name] =
          isGradLeaf(n.name) ? Tensor(n.type.dims) : state.at(n.name);
    }
  }
  prog->gradExec->setState(prog->gradState);
  prog->updExec->setState(prog->updState);
}

void DataParallelExecutor::setScalar(const std::string &name, double value) {
  float v = static_cast<float>(value);
  held.at(name).data.at(0) = v;
  // The copies the executors' state is set from each step (applyUpdate)
  // take the value too, or the next step would put the old one back.
  if (prog->update.findLeaf(OpKind::State, name)) {
    prog->updState.at(name).data.at(0) = v;
    prog->updExec->setScalar(name, value);
  }
  if (prog->grads.findLeaf(OpKind::State, name)) {
    prog->gradState.at(name).data.at(0) = v;
    prog->gradExec->setScalar(name, value);
  }
}

void DataParallelExecutor::prepare(int64_t maxBatch) {
  int n = world().size;
  prog->gradExec->prepare((maxBatch + n - 1) / n);
  prog->updExec->prepare(1);
}

TensorMap DataParallelExecutor::gatherShard(const TensorMap &batch,
                                            int64_t rows, int64_t &n) {
  auto [begin, end] = shardRange(rows, world().size, world().rank);
  n = end - begin;
  TensorMap shard;
  for (const auto &[name, t] : batch)
    shard[name] = sliceRows(t, rows, begin, end);
  return shard;
}

TensorMap DataParallelExecutor::run(const TensorMap &batch) {
  const World &w = world();
  Clock::time_point t0 = Clock::now();
  int64_t rows = batch.at(prog->input).shape.at(0), n = 0;
  TensorMap shard = gatherShard(batch, rows, n);
  // The gradients, padded to N equal slices for the reduce-scatter; and a
  // small block: the pred rows (padded to the longest shard), the loss,
  // the row count and a pending signal.
  // (Only the buffers when the GPUs sum the gradients.)
  size_t values = (prog->device ? 0 : prog->gradValues) + prog->bufferValues;
  size_t slice = (values + w.size - 1) / w.size;
  std::vector<float> grads(slice * w.size, 0.0f);
  size_t tail = static_cast<size_t>((rows + w.size - 1) / w.size *
                                    prog->predWidth);
  std::vector<float> small(tail + 3, 0.0f);
  if (n > 0) {
    // Dropout draws the masks of these rows of the global batch.
    if (prog->grads.findLeaf(OpKind::State, kFirstRowLeaf))
      prog->gradExec->setScalar(
          kFirstRowLeaf,
          static_cast<double>(shardRange(rows, w.size, w.rank).first));
    TensorMap out = prog->gradExec->run(shard);
    float *at = grads.data();
    if (!prog->device) // else summed on the GPUs
      for (const std::string &p : prog->params) {
        const Tensor &g = out.at("grad." + p);
        at = std::copy(g.data.begin(), g.data.end(), at);
      }
    for (const std::string &b : prog->buffers) {
      const Tensor &v = prog->gradExec->state().at(b);
      at = std::copy(v.data.begin(), v.data.end(), at);
    }
    if (auto it = out.find("pred"); it != out.end())
      std::copy(it->second.data.begin(), it->second.data.end(), small.begin());
    small[tail] = out.at("loss")[0];
  }
  small[tail + 1] = static_cast<float>(n); // exact: a batch has < 2^24 rows
  small[tail + 2] = interruptRequested() ? std::max(1, interruptSignal()) : 0;
  t.compute += since(t0);

  Clock::time_point t1 = Clock::now();
  std::vector<float> all = allGather(small);
  std::vector<double> weight(static_cast<size_t>(w.size));
  double lossSum = 0;
  agreed = 0;
  for (int r = 0; r < w.size; ++r) {
    const float *block = all.data() + static_cast<size_t>(r) * small.size();
    double nr = block[tail + 1];
    weight[static_cast<size_t>(r)] = nr / static_cast<double>(rows);
    lossSum += static_cast<double>(block[tail]) * nr;
    agreed = std::max(agreed, static_cast<int>(block[tail + 2]));
  }
  // Reduce-scatter: rank j sums slice j of every rank's gradients, in rank
  // order; then every rank gathers the summed slices.
  std::vector<float> sum; // the buffers alone when the GPUs sum the rest
  if (prog->device)
    prog->device->sum(n > 0, weight);
  if (values > 0)
    sum = allGather(sumInRankOrder(allToAll(grads), w.size, slice, weight));
  t.reduce += since(t1);
  t.bytes = static_cast<int64_t>((grads.size() + slice + small.size()) *
                                 sizeof(float));
  if (agreed && !interruptRequested())
    requestInterrupt(agreed); // the signal another rank got
  Clock::time_point t2 = Clock::now();
  applyUpdate(sum);
  t.update += since(t2);
  ++t.steps;
  return globalOutputs(all, small.size(), rows, lossSum);
}

TensorMap DataParallelExecutor::globalOutputs(const std::vector<float> &all,
                                              size_t block, int64_t rows,
                                              double lossSum) const {
  TensorMap out;
  Tensor l(std::vector<int64_t>{});
  l[0] = static_cast<float>(lossSum / static_cast<double>(rows));
  out["loss"] = l;
  if (prog->predWidth > 0) {
    const World &w = world();
    Tensor pred({rows, prog->predWidth});
    for (int r = 0; r < w.size; ++r) {
      auto [b, e] = shardRange(rows, w.size, r);
      const float *from = all.data() + static_cast<size_t>(r) * block;
      std::copy(from, from + (e - b) * prog->predWidth,
                pred.data.begin() + b * prog->predWidth);
    }
    out["pred"] = std::move(pred);
  }
  return out;
}

void DataParallelExecutor::applyUpdate(const std::vector<float> &sum) {
  const float *at = sum.data();
  if (!prog->device) { // else the sum is in the update's leaves already
    for (const std::string &p : prog->params) {
      Tensor &g = prog->updState.at(kGradLeafPrefix + p);
      std::copy(at, at + g.numel(), g.data.begin());
      at += g.numel();
    }
    prog->updExec->setState(prog->updState);
  }
  // The buffers: each rank's new running statistics, averaged as the
  // gradients are (batch norm's running mean becomes the global batch's).
  for (const std::string &b : prog->buffers) {
    Tensor &v = prog->gradState.at(b);
    std::copy(at, at + v.numel(), v.data.begin());
    at += v.numel();
    held[b] = v;
  }
  prog->updExec->run({});
  for (const auto &[name, v] : prog->updExec->state()) {
    if (isGradLeaf(name))
      continue;
    prog->updState[name] = v;
    held[name] = v;
    if (auto it = prog->gradState.find(name); it != prog->gradState.end())
      it->second = v;
  }
  prog->gradExec->setState(prog->gradState);
}

std::string DataParallelExecutor::summary() const {
  if (t.steps == 0)
    return "";
  double steps = static_cast<double>(t.steps);
  double total = t.compute + t.reduce + t.update;
  return fmt::format(
      "{} processes, per step: gradients {:.3f} ms, reduction {:.3f} ms "
      "({:.1f}% of the step), update {:.3f} ms; {} bytes sent per rank",
      world().size, 1e3 * t.compute / steps, 1e3 * t.reduce / steps,
      100.0 * t.reduce / std::max(total, 1e-12), 1e3 * t.update / steps,
      t.bytes);
}

Metrics evaluateSharded(const Trainer &trainer, const TensorMap &state,
                        const Dataset &data, const std::string &backend,
                        const ExecutorOptions &exec) {
  const World &w = world();
  if (w.size == 1)
    return trainer.evaluate(state, data, backend, exec);
  auto [begin, end] = shardRange(data.size(), w.size, w.rank);
  std::vector<int64_t> idx(static_cast<size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return evaluateShard(trainer, state, selectRows(data, idx), backend, exec);
}

Metrics evaluateShard(const Trainer &trainer, const TensorMap &state,
                      const Dataset &mine, const std::string &backend,
                      const ExecutorOptions &exec) {
  const World &w = world();
  if (w.size == 1)
    return trainer.evaluate(state, mine, backend, exec);
  std::vector<double> sums = {0, 0, 0};
  if (mine.size() > 0) {
    Metrics m = trainer.evaluate(state, mine, backend, exec);
    double k = static_cast<double>(m.samples);
    sums = {m.loss * k, std::round(m.accuracy * k), k};
  }
  std::vector<double> sum = sumInRankOrder(allGather(sums), w.size, 3);
  Metrics m;
  m.samples = static_cast<int64_t>(sum[2]);
  m.loss = sum[0] / sum[2];
  m.accuracy = sum[1] / sum[2]; // NaN for real labels, as evaluate's
  return m;
}

} // namespace nn
