//===- CudaExecutor.cpp - Training steps on the GPU -----------------------===//
///
/// \file
/// Checks the batch (missing leaves, shapes, class ids: the interpreter's
/// messages, so kernels never see bad input), stages it in page-locked host
/// memory, and runs the step on the device: batch copies, one kernel per
/// node, the update copies into the resident parameters and optimizer
/// state, and the output copies back, all on one stream. The step is
/// captured once per batch size as a CUDA graph and replayed; with --sync,
/// kernels are launched one by one and each is waited for, so an error names
/// its kernel. Device memory: one arena per memory plan, plus one buffer
/// per parameter, state and batch leaf.
///
//===----------------------------------------------------------------------===//

#include "runtime/CudaExecutor.h"

namespace nn {

CudaBuffers *cudaBuffers(Executor &e) {
  return dynamic_cast<CudaBuffers *>(&e);
}

} // namespace nn

#ifdef NNC_HAVE_CUDA_BACKEND

#include "codegen/cuda/CudaDriver.h"
#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/CudaStep.h"
#include "codegen/cuda/Nvrtc.h"
#include "ir/Support.h"
#include "passes/MemoryPlan.h"
#include "runtime/Distributed.h"
#include "runtime/LeafChecks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace nn {

namespace {

bool isBatchLeaf(const Node &n) {
  return n.op == OpKind::Input || n.op == OpKind::Label;
}

size_t bytesOf(const TensorType &t, int64_t batch) {
  return static_cast<size_t>(Tensor::numelOf(concreteDims(t, batch))) *
         sizeof(float);
}

/// This process's device (opening the driver first: without one, open()
/// says why).
int processDevice() {
  int count = cudaDeviceCount();
  return count > 0 ? processCudaDevice(count) : 0;
}

class CudaExecutor : public Executor, public CudaBuffers {
public:
  CudaExecutor(const Graph &g, const CudaExecOptions &o)
      : graph(g), opts(o), ctx(CudaContext::open(processDevice())) {
    if (opts.sync)
      opts.noGraph = true;
  }
  ~CudaExecutor() override;

  void setState(const TensorMap &s) override;
  const TensorMap &state() const override;
  void setScalar(const std::string &name, double value) override;
  TensorMap run(const TensorMap &batch) override;
  void prepare(int64_t maxBatch) override {
    if (!module)
      compile();
  }
  int deviceOrdinal() const override { return ctx->ordinal(); }
  void copyOutput(const std::string &name, CudaDevicePtr dst) override;
  void setLeaf(const std::string &name, CudaDevicePtr src) override;

private:
  /// One kernel launch: its function and argument values (pointers fixed
  /// for a plan; the batch size set per run).
  struct Launch {
    const CudaKernel *meta = nullptr;
    void *fn = nullptr, *bigFn = nullptr; // bigFn: the big-tile variant
    std::vector<CudaDevicePtr> ptrs;
    long long batch = 0;
    std::vector<void *> args;
  };

  void compile();
  /// Uploads the held Param and State values unless the device has them.
  void uploadState();
  void preparePlan(int64_t batch);
  void freePlan();
  CudaDevicePtr ptrOf(NodeId id) const;
  /// Enqueues the whole step for `n0` samples (batch already staged). With
  /// `marks`, records an event first, after the batch copies, after each
  /// kernel and last.
  void enqueueStep(int64_t n0, std::vector<void *> *marks = nullptr);
  /// Fills opts.times from the events of a finished step.
  void recordTimes(std::vector<void *> &marks);
  std::string kernelDesc(const CudaKernel &k) const;

  Graph graph;
  CudaExecOptions opts;
  std::unique_ptr<CudaContext> ctx;
  mutable TensorMap held;
  mutable bool hostCurrent = true; // held matches the device
  bool deviceCurrent = false;      // the device matches held

  CudaSource src;
  void *module = nullptr;
  std::vector<void *> fns, bigFns;         // per src.kernels entry
  std::map<NodeId, CudaDevicePtr> leafBuf; // Param, State, multi-value Const

  // Per plan (batch-size dependent).
  MemoryPlan plan;
  CudaDevicePtr arena = 0;
  std::map<NodeId, CudaDevicePtr> batchBuf;
  std::map<NodeId, size_t> hostInOff, hostOutOff;
  char *hostIn = nullptr, *hostOut = nullptr;
  std::vector<Launch> launches;
  std::map<int64_t, void *> graphs; // by batch size
};

CudaExecutor::~CudaExecutor() {
  // A destructor cannot report failures; a failing release here would
  // leave the process's device memory to the driver's clean-up.
  try {
    freePlan();
    for (auto &[id, p] : leafBuf)
      ctx->free(p);
    ctx->unloadModule(module);
  } catch (const std::exception &) {
  }
}

void CudaExecutor::setState(const TensorMap &s) {
  checkStateLeaves(graph, s);
  held = s;
  hostCurrent = true;
  deviceCurrent = false;
}

const TensorMap &CudaExecutor::state() const {
  if (hostCurrent)
    return held;
  for (OpKind kind : {OpKind::Param, OpKind::State})
    for (NodeId id : graph.leaves(kind)) {
      Tensor &t = held.at(graph[id].name);
      ctx->copyToHost(t.data.data(), leafBuf.at(id),
                      t.data.size() * sizeof(float));
    }
  ctx->synchronize("copying the parameters back from the GPU");
  hostCurrent = true;
  return held;
}

void CudaExecutor::setScalar(const std::string &name, double value) {
  NodeId id = scalarStateLeaf(graph, name);
  // The held copy is the source of the upload (it outlives the copy); when
  // the device is current, only these 4 bytes go over, in stream order
  // before the next step.
  float &v = held.at(name).data.at(0);
  v = static_cast<float>(value);
  if (deviceCurrent)
    ctx->copyToDevice(leafBuf.at(id), &v, sizeof v);
}

void CudaExecutor::compile() {
  CudaPrintOptions po;
  po.tf32 = opts.tf32;
  if (opts.bigTileMin > 0)
    po.bigTileMin = opts.bigTileMin;
  if (opts.bigMinBlocks > 0)
    po.bigMinBlocks = opts.bigMinBlocks;
  po.splitK = opts.splitK;
  if (po.tf32)
    checkTf32Arch(ctx->arch());
  src = printCuda(graph, po);
  NvrtcOptions no;
  no.arch = ctx->arch();
  no.verbose = opts.verbose;
  no.noCache = opts.noCache;
  CudaBinary bin = compileCuda(src, no);
  module = ctx->loadModule(bin.cubin);
  for (const CudaKernel &k : src.kernels) {
    fns.push_back(ctx->kernel(module, k.name));
    bigFns.push_back(k.bigName.empty() ? nullptr
                                       : ctx->kernel(module, k.bigName));
  }
  // Parameters and optimizer state live on the device for the executor's
  // lifetime; constant tensors too (kernels read them from the module, but
  // an update or output may name one).
  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node &n = graph[id];
    if (n.op == OpKind::Param || n.op == OpKind::State) {
      leafBuf[id] = ctx->alloc(bytesOf(n.type, 1), leafDesc(n));
    } else if (n.op == OpKind::Const && n.values.size() > 1) {
      std::vector<float> v(n.values.begin(), n.values.end());
      leafBuf[id] = ctx->alloc(v.size() * sizeof(float), "a constant");
      ctx->copyToDevice(leafBuf[id], v.data(), v.size() * sizeof(float));
      ctx->synchronize("uploading a constant");
    }
  }
}

void CudaExecutor::uploadState() {
  if (deviceCurrent)
    return;
  for (OpKind kind : {OpKind::Param, OpKind::State})
    for (NodeId id : graph.leaves(kind)) {
      auto it = held.find(graph[id].name);
      NN_ASSERT(it != held.end(), "no value held for '" + graph[id].name +
                                      "' (setState first)");
      ctx->copyToDevice(leafBuf.at(id), it->second.data.data(),
                        it->second.data.size() * sizeof(float));
    }
  deviceCurrent = true;
}

void CudaExecutor::copyOutput(const std::string &name, CudaDevicePtr dst) {
  auto it = std::find_if(graph.outputs.begin(), graph.outputs.end(),
                         [&](const Output &o) { return o.name == name; });
  NN_ASSERT(it != graph.outputs.end() && arena,
            "no output '" + name + "' of a run to copy");
  const Node &n = graph[it->node];
  NN_ASSERT(!n.type.hasBatch(), "a device copy of a batch output");
  size_t bytes = bytesOf(n.type, 1);
  if (n.op == OpKind::Const && n.values.size() == 1) {
    // Inlined into the kernels: no buffer holds it.
    float f = static_cast<float>(n.values[0]);
    uint32_t word;
    std::memcpy(&word, &f, sizeof word);
    ctx->fill32(dst, word, bytes / sizeof(float));
  } else {
    // The arena keeps the last run's outputs until the next run.
    ctx->copyOnDevice(dst, ptrOf(it->node), bytes);
  }
  ctx->synchronize("copying output '" + name + "' on the GPU");
}

void CudaExecutor::setLeaf(const std::string &name, CudaDevicePtr src) {
  std::optional<NodeId> id = graph.findLeaf(OpKind::State, name);
  if (!id)
    id = graph.findLeaf(OpKind::Param, name);
  NN_ASSERT(id, "no Param or State leaf '" + name + "' to set");
  if (!module)
    compile();
  uploadState();
  ctx->copyOnDevice(leafBuf.at(*id), src, bytesOf(graph[*id].type, 1));
  ctx->synchronize("setting '" + name + "' on the GPU");
  hostCurrent = false;
}

CudaDevicePtr CudaExecutor::ptrOf(NodeId id) const {
  CudaPlace p = cudaPlaceOf(graph, src, plan, id);
  switch (p.kind) {
  case CudaPlace::Leaf:
    return isBatchLeaf(graph[p.leaf]) ? batchBuf.at(p.leaf)
                                      : leafBuf.at(p.leaf);
  case CudaPlace::Inlined:
    return 0; // one value: inlined into the kernels
  case CudaPlace::Arena:
    return arena + static_cast<CudaDevicePtr>(p.offset);
  }
  NN_UNREACHABLE("bad CudaPlace");
}

void CudaExecutor::freePlan() {
  for (auto &[b, exec] : graphs)
    ctx->destroyGraph(exec);
  graphs.clear();
  launches.clear();
  for (auto &[id, p] : batchBuf)
    ctx->free(p);
  batchBuf.clear();
  ctx->free(arena);
  arena = 0;
  ctx->freeHost(hostIn);
  ctx->freeHost(hostOut);
  hostIn = hostOut = nullptr;
}

void CudaExecutor::preparePlan(int64_t batch) {
  if (arena && batch <= plan.maxBatch)
    return;
  freePlan();
  plan = planMemory(graph, std::max(batch, plan.maxBatch));
  arena = ctx->alloc(static_cast<size_t>(plan.arenaBytes), "the arena");
  size_t inBytes = 0, outBytes = 0;
  for (NodeId id = 0; id < graph.size(); ++id) {
    const Node &n = graph[id];
    if (!isBatchLeaf(n))
      continue;
    size_t bytes = bytesOf(n.type, plan.maxBatch);
    batchBuf[id] = ctx->alloc(bytes, leafDesc(n));
    hostInOff[id] = inBytes;
    inBytes += (bytes + 63) / 64 * 64;
  }
  for (const Output &o : graph.outputs) {
    hostOutOff[o.node] = outBytes;
    outBytes += (bytesOf(graph[o.node].type, plan.maxBatch) + 63) / 64 * 64;
  }
  hostIn = static_cast<char *>(ctx->allocHost(inBytes));
  hostOut = static_cast<char *>(ctx->allocHost(outBytes));

  // A chain kernel in place of its members where the plan allows.
  std::vector<size_t> list = cudaLaunchList(graph, src, plan);
  launches.resize(list.size());
  for (size_t j = 0; j < list.size(); ++j) {
    size_t i = list[j];
    Launch &l = launches[j];
    l.meta = &src.kernels[i];
    l.fn = fns[i];
    l.bigFn = bigFns[i];
    for (NodeId id : cudaKernelArgs(graph, *l.meta))
      l.ptrs.push_back(ptrOf(id));
    for (CudaDevicePtr &p : l.ptrs)
      l.args.push_back(&p);
    l.args.push_back(&l.batch);
  }
  ctx->synchronize("allocating device memory");
}

std::string CudaExecutor::kernelDesc(const CudaKernel &k) const {
  return "kernel " + k.name +
         (k.loc.valid() ? " from " + k.loc.str() : std::string()) + ": " +
         k.nodeText;
}

void CudaExecutor::enqueueStep(int64_t n0, std::vector<void *> *marks) {
  auto mark = [&] {
    if (marks)
      marks->push_back(ctx->recordEvent());
  };
  mark();
  for (auto &[id, p] : batchBuf)
    ctx->copyToDevice(p, hostIn + hostInOff.at(id),
                      bytesOf(graph[id].type, n0));
  mark();
  for (Launch &l : launches) {
    l.batch = n0;
    CudaLaunchDims d = cudaLaunchDims(*l.meta, n0);
    ctx->launch(d.big ? l.bigFn : l.fn, d.grid, d.block, l.args.data(),
                cudaLaunchName(*l.meta, d));
    mark();
    if (opts.sync)
      ctx->synchronize(kernelDesc(*l.meta));
  }
  // Outputs first: one may name a parameter, whose value is the one from
  // before the update (as in the interpreter).
  for (const Output &o : graph.outputs) {
    const Node &n = graph[o.node];
    if (n.op == OpKind::Const && n.values.size() == 1)
      continue; // filled on the host
    ctx->copyToHost(hostOut + hostOutOff.at(o.node), ptrOf(o.node),
                    bytesOf(n.type, n0));
  }
  // Every update value is computed by now (and live to the end).
  for (const Update &u : graph.updates) {
    size_t bytes = bytesOf(graph[u.target].type, n0);
    switch (cudaUpdateCopy(graph, src, u)) {
    case CudaUpdateCopy::Fill: {
      float f = static_cast<float>(graph[u.value].values[0]);
      uint32_t word;
      std::memcpy(&word, &f, sizeof word);
      ctx->fill32(leafBuf.at(u.target), word, bytes / sizeof(float));
      break;
    }
    case CudaUpdateCopy::None:
      break; // its kernel wrote the leaf
    case CudaUpdateCopy::Copy:
      ctx->copyOnDevice(leafBuf.at(u.target), ptrOf(u.value), bytes);
      break;
    }
  }
  mark();
}

void CudaExecutor::recordTimes(std::vector<void *> &marks) {
  CudaTimes &t = *opts.times;
  t.device = ctx->deviceName() + ", " + ctx->arch() + ", " +
             std::to_string(ctx->multiprocessors()) + " SMs";
  t.peakGflops = opts.tf32 ? ctx->tf32PeakGflops() : ctx->fp32PeakGflops();
  t.arenaBytes = plan.arenaBytes;
  t.kernelMs.clear();
  t.kernelNames.clear();
  t.kernelNodes.clear();
  if (!marks.empty())
    t.stepMs = ctx->elapsedMs(marks.front(), marks.back());
  // first, after the batch copies, one per kernel, last
  if (marks.size() == launches.size() + 3)
    for (size_t i = 0; i < launches.size(); ++i) {
      t.kernelMs.push_back(ctx->elapsedMs(marks[i + 1], marks[i + 2]));
      const Launch &l = launches[i]; // the variant that ran (small, _big)
      t.kernelNames.push_back(
          cudaLaunchName(*l.meta, cudaLaunchDims(*l.meta, l.batch)));
      t.kernelNodes.push_back(launches[i].meta->node);
    }
  for (void *e : marks)
    ctx->destroyEvent(e);
  marks.clear();
}

TensorMap CudaExecutor::run(const TensorMap &batch) {
  int64_t n0 = batchRows(graph, batch);
  for (const Node &n : graph.nodes)
    if (isBatchLeaf(n))
      checkLeafValue(n, batch.at(n.name), n0);
  if (!module)
    compile();
  preparePlan(n0);
  uploadState();
  for (auto &[id, p] : batchBuf) {
    const Tensor &t = batch.at(graph[id].name);
    std::memcpy(hostIn + hostInOff.at(id), t.data.data(),
                t.data.size() * sizeof(float));
  }

  std::vector<void *> marks;
  if (opts.noGraph) {
    enqueueStep(n0, opts.times ? &marks : nullptr);
  } else {
    void *&exec = graphs[n0];
    if (!exec) {
      ctx->beginCapture();
      try {
        enqueueStep(n0);
      } catch (...) {
        // End the capture so the stream is usable; the graph is dropped.
        try {
          ctx->destroyGraph(ctx->endCapture());
        } catch (...) {
        }
        graphs.erase(n0);
        throw;
      }
      exec = ctx->endCapture();
    }
    if (opts.times)
      marks.push_back(ctx->recordEvent());
    ctx->launchGraph(exec);
    if (opts.times)
      marks.push_back(ctx->recordEvent());
  }
  ctx->synchronize(opts.noGraph ? "the training step of '" + graph.name + "'"
                                : "the training step of '" + graph.name +
                                      "' (a replayed CUDA graph; --sync "
                                      "names the failing kernel)");
  hostCurrent = false;
  if (opts.times)
    recordTimes(marks);

  TensorMap out;
  for (const Output &o : graph.outputs) {
    const Node &n = graph[o.node];
    Tensor t(concreteDims(n.type, n0));
    if (n.op == OpKind::Const && n.values.size() == 1)
      std::fill(t.data.begin(), t.data.end(), static_cast<float>(n.values[0]));
    else
      std::memcpy(t.data.data(), hostOut + hostOutOff.at(o.node),
                  t.data.size() * sizeof(float));
    out[o.name] = std::move(t);
  }
  return out;
}

} // namespace

std::string cudaBackendUnavailable() { return cudaUnavailableReason(); }

std::unique_ptr<Executor> makeCudaExecutor(const Graph &g,
                                           const CudaExecOptions &opts) {
  return std::make_unique<CudaExecutor>(g, opts);
}

} // namespace nn

#endif // NNC_HAVE_CUDA_BACKEND
