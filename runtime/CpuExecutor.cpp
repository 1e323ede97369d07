//===- CpuExecutor.cpp - Graphs run as native code ------------------------===//
///
/// \file
/// Binds a batch and the held parameters to the compiled entry point's leaf
/// array, runs the whole step in one call (forward, backward and update: the
/// generated code writes the new parameters and optimizer state into the
/// held tensors) and copies the outputs out of the arena. Checks user input
/// (missing leaves, shapes, class ids) first, with the interpreter's
/// messages: generated code never sees bad input. runSteps runs K steps in
/// one call of the module's <symbol>_steps (codegen/cpu/CpuSteps.h), the
/// batches gathered by generated code from the trainer's checked data set
/// into buffers bound as the Input and Label leaves.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "runtime/CpuExecutor.h"

#include "codegen/cpu/CpuSteps.h"
#include "codegen/cpu/JitCache.h"
#include "ir/Support.h"
#include "passes/MemoryPlan.h"
#include "passes/optim/Optimizer.h"
#include "runtime/LeafChecks.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace nn {

namespace {

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};

class CpuExecutor : public Executor {
public:
  CpuExecutor(const Graph &g, const CpuOptions &opts) : graph(g), opts(opts) {}

  void setState(const TensorMap &s) override {
    checkStateLeaves(graph, s);
    held = s;
  }

  const TensorMap &state() const override { return held; }

  /// The step reads the held tensors through pointers bound per run.
  void setScalar(const std::string &name, double value) override {
    scalarStateLeaf(graph, name);
    held.at(name).data.at(0) = static_cast<float>(value);
  }

  TensorMap run(const TensorMap &batch) override;
  void prepare(int64_t maxBatch) override { ensureCompiled(maxBatch); }
  StepsDone runSteps(const StepsJob &job) override;
  bool compiledSteps() const override { return stepsFn != nullptr; }

private:
  void ensureCompiled(int64_t batch);

  Graph graph;
  CpuOptions opts;
  TensorMap held;
  std::unique_ptr<CpuProgram> program;
  MemoryPlan plan;
  std::unique_ptr<float, FreeDeleter> arena;
  CpuStepsFn stepsFn = nullptr; // the module's <symbol>_steps, if any
  std::vector<float> xBuf, yBuf; // the batch runSteps gathers
};

void CpuExecutor::ensureCompiled(int64_t batch) {
  if (program && batch <= plan.maxBatch)
    return;
  plan = planMemory(graph, std::max(batch, plan.maxBatch));
  program = compileCpuCached(graph, plan, opts);
  size_t bytes = static_cast<size_t>(std::max<int64_t>(plan.arenaBytes, 64));
  bytes = (bytes + 63) / 64 * 64;
  arena.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
  stepsFn = reinterpret_cast<CpuStepsFn>(
      program->address(cpuStepsSymbol(graph)));
  for (const Output &o : graph.outputs) // pred rows are read from the arena
    if (o.name == "pred" && plan.offset[o.node] < 0)
      stepsFn = nullptr;
  NN_ASSERT(arena, "cannot allocate the arena");
  std::memset(arena.get(), 0, bytes);
}

TensorMap CpuExecutor::run(const TensorMap &batch) {
  int64_t n0 = batchRows(graph, batch);
  std::vector<const float *> ptrs;
  for (NodeId id : cpuLeafOrder(graph)) {
    const Node &n = graph[id];
    bool fromBatch = n.op == OpKind::Input || n.op == OpKind::Label;
    const TensorMap &src = fromBatch ? batch : held;
    auto it = src.find(n.name);
    if (it == src.end()) {
      if (fromBatch)
        leafError(n, "no value given for " + leafDesc(n));
      NN_UNREACHABLE("no value held for '" + n.name + "' (setState first)");
    }
    checkLeafValue(n, it->second, n0);
    ptrs.push_back(it->second.data.data());
  }
  ensureCompiled(n0);
  // Param and State buffers are written by the step (the updates): they are
  // the held tensors, bound above through `held`.
  program->entry()(ptrs.data(), arena.get(), n0);

  TensorMap out;
  for (const Output &o : graph.outputs) {
    const Node &n = graph[o.node];
    Tensor t(concreteDims(n.type, n0));
    if (plan.offset[o.node] >= 0) {
      const char *base = reinterpret_cast<const char *>(arena.get());
      std::memcpy(t.data.data(), base + plan.offset[o.node],
                  t.data.size() * sizeof(float));
    } else if (n.op == OpKind::Const) {
      for (size_t i = 0; i < t.data.size(); ++i)
        t.data[i] = static_cast<float>(
            n.values.size() == 1 ? n.values[0] : n.values.at(i));
    } else {
      bool fromBatch = n.op == OpKind::Input || n.op == OpKind::Label;
      t = (fromBatch ? batch : held).at(n.name);
    }
    out[o.name] = std::move(t);
  }
  return out;
}

StepsDone CpuExecutor::runSteps(const StepsJob &job) {
  ensureCompiled(job.batch);
  if (!stepsFn)
    return Executor::runSteps(job);
  int64_t samples = job.x->shape.at(0);
  int64_t rows = static_cast<int64_t>(job.order->size());
  NN_ASSERT(job.first >= 0 && job.steps >= 0 &&
                (job.first + job.steps - 1) * job.batch < rows,
            "steps past the epoch's rows");
  for (int64_t i = job.first * job.batch;
       i < std::min(rows, (job.first + job.steps) * job.batch); ++i)
    NN_ASSERT((*job.order)[i] >= 0 && (*job.order)[i] < samples,
              "sample index out of range");
  std::vector<const float *> ptrs;
  for (NodeId id : cpuLeafOrder(graph)) {
    const Node &n = graph[id];
    std::vector<float> *buf = n.op == OpKind::Input   ? &xBuf
                              : n.op == OpKind::Label ? &yBuf
                                                      : nullptr;
    if (buf) { // the gather's (job.x and job.y passed Trainer::checkData)
      buf->assign(job.batch * n.type.numelPerSample(), 0.0f);
      ptrs.push_back(buf->data());
      continue;
    }
    auto it = held.find(n.name);
    NN_ASSERT(it != held.end(), "no value held for '" + n.name + "'");
    checkLeafValue(n, it->second, job.batch);
    ptrs.push_back(it->second.data.data());
  }
  NN_ASSERT(job.x->numel() == samples * static_cast<int64_t>(xBuf.size()) /
                                  job.batch,
            "samples do not fit the input leaf");
  NN_ASSERT(job.y->numel() == samples * static_cast<int64_t>(yBuf.size()) /
                                  job.batch,
            "labels do not fit the label leaf");
  // Without lrs the steps keep the held one (the generated code stores one
  // per step where the graph reads it).
  NN_ASSERT(job.lr.empty() || static_cast<int64_t>(job.lr.size()) == job.steps,
            "one lr per step");
  std::vector<float> lr(job.lr.begin(), job.lr.end());
  auto heldLr = held.find(kLrLeaf);
  lr.resize(static_cast<size_t>(job.steps),
            heldLr == held.end() ? 0.0f : heldLr->second.data.at(0));
  StepsDone d;
  d.loss.resize(static_cast<size_t>(job.steps));
  for (const Output &o : graph.outputs)
    if (o.name == "pred")
      d.predWidth = graph[o.node].type.numelPerSample();
  d.pred.resize(static_cast<size_t>(job.steps * job.batch * d.predWidth));
  CpuStepsArgs a;
  a.leaves = ptrs.data();
  a.arena = arena.get();
  a.x = job.x->data.data();
  a.y = job.y->data.data();
  a.order = job.order->data();
  a.rows = rows;
  a.batch = job.batch;
  a.first = job.first;
  a.steps = job.steps;
  a.lr = lr.data();
  a.loss = d.loss.data();
  a.pred = d.predWidth > 0 ? d.pred.data() : nullptr;
  d.steps = stepsFn(&a);
  d.loss.resize(static_cast<size_t>(d.steps));
  d.pred.resize(static_cast<size_t>(d.steps * job.batch * d.predWidth));
  return d;
}

} // namespace

std::unique_ptr<Executor> makeCpuExecutor(const Graph &g,
                                          const CpuOptions &opts) {
  return std::make_unique<CpuExecutor>(g, opts);
}

} // namespace nn

#endif // NNC_HAVE_CPU_BACKEND
