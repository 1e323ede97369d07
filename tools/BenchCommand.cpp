//===- BenchCommand.cpp - nnc bench ---------------------------------------===//
///
/// \file
/// Times the compiled training step of a model, whole and kernel by kernel,
/// fused and unfused, at the batch sizes asked for: medians and ranges over
/// repeats after warm-up, GFLOP/s and % of the measured machine peak, bytes
/// moved (each kernel's operands read once and its results written once)
/// and GB/s, kernel count, arena size, compile times, and the
/// unfused/fused ratio, all measured in one run. Before it reports, it runs
/// one step of every variant from the same state and batch and refuses to
/// report when their results disagree. `--json` prints one object instead.
/// This file times the CPU backend; `--backend=cuda` goes to CudaBench.cpp,
/// and tools/BenchReport.* holds what both share.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/KernelGroups.h"
#include "codegen/cpu/ThreadPool.h"
#include "ir/KernelNames.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/MemoryPlan.h"
#include "runtime/LeafChecks.h"
#include "runtime/ParamInit.h"
#include "tools/Driver.h"
#include "tools/BenchReport.h"
#include "tools/MachinePeak.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>

namespace nn {

namespace {

using Clock = std::chrono::steady_clock;

/// One variant (batch, fusion set) compiled twice: plain and profiled.
struct Variant {
  BenchResult r; // batch, fuse, timings, costs
  Graph graph;
  MemoryPlan plan;
  std::unique_ptr<CpuProgram> program, profiled;
  std::vector<std::vector<float>> leaves; // in cpuLeafOrder
  std::vector<std::vector<float>> pristine;
  float *arena = nullptr;
  TensorMap result; // outputs and updated leaves after one step

  ~Variant() { std::free(arena); }
};

/// Leaves of the variant in cpuLeafOrder: parameters from their
/// initializers, state zero, the batch from benchBatch.
void makeLeaves(Variant &v, const Recipe &recipe) {
  const Graph &g = v.graph;
  TensorMap state = initState(g, recipe.seed);
  TensorMap batch = benchBatch(g, recipe.seed, v.r.batch);
  for (NodeId id : cpuLeafOrder(g)) {
    const Node &n = g[id];
    bool held = n.op == OpKind::Param || n.op == OpKind::State;
    v.leaves.push_back((held ? state : batch).at(n.name).data);
  }
  v.pristine = v.leaves;
}

void reset(Variant &v) {
  for (size_t i = 0; i < v.leaves.size(); ++i)
    std::copy(v.pristine[i].begin(), v.pristine[i].end(), v.leaves[i].begin());
}

double runOnce(Variant &v, CpuEntryFn fn) {
  std::vector<const float *> ptrs;
  for (const auto &l : v.leaves)
    ptrs.push_back(l.data());
  Clock::time_point t0 = Clock::now();
  fn(ptrs.data(), v.arena, v.r.batch);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The outputs and the updated Param/State leaves after one step from the
/// pristine leaves.
TensorMap oneStep(Variant &v) {
  reset(v);
  runOnce(v, v.program->entry());
  TensorMap r;
  const Graph &g = v.graph;
  for (const Output &o : g.outputs) {
    const Node &n = g[o.node];
    NN_ASSERT(v.plan.offset[o.node] >= 0, "output outside the arena");
    Tensor t(concreteDims(n.type, v.r.batch));
    const char *base = reinterpret_cast<const char *>(v.arena);
    std::memcpy(t.data.data(), base + v.plan.offset[o.node],
                t.data.size() * sizeof(float));
    r[o.name] = std::move(t);
  }
  std::vector<NodeId> order = cpuLeafOrder(g);
  for (size_t i = 0; i < order.size(); ++i) {
    const Node &n = g[order[i]];
    if (n.op == OpKind::Param || n.op == OpKind::State) {
      Tensor t(n.type.dims);
      t.data = v.leaves[i];
      r[n.name] = std::move(t);
    }
  }
  return r;
}

/// The nodes each kernel of `v`'s profiled step computes, by the kernel's
/// name: a node's own kernel, or a kernel group's (codegen/cpu/
/// KernelGroups.h: a weight gradient with its bias gradient, the optimizer
/// updates) under the name the module gives it.
std::map<std::string, std::vector<NodeId>> kernelNodes(const Variant &v) {
  std::map<std::string, std::vector<NodeId>> r;
  std::vector<std::string> names = kernelNames(v.graph);
  for (NodeId id = 0; id < v.graph.size(); ++id)
    r[names[static_cast<size_t>(id)]] = {id};
  for (const cpu::KernelGroup &grp : cpu::findGroups(v.graph, v.plan))
    r[cpu::groupKernelName(grp, names, cpuStepSymbol(v.graph))] = grp.nodes;
  return r;
}

/// Times the profiled program: per-kernel medians (cycle counts scaled by
/// the median seconds per cycle of whole calls).
void profileKernels(Variant &v, int warmup, int repeats) {
  std::string sym = cpuStepSymbol(v.graph);
  auto *ticks = static_cast<const int64_t *>(
      v.profiled->address(sym + "_profile_ticks"));
  auto *names = static_cast<const char *>(
      v.profiled->address(sym + "_profile_names"));
  NN_ASSERT(ticks && names, "the profiled program has no profile arrays");
  std::vector<std::string> list;
  std::istringstream in(names);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      list.push_back(line);
  std::vector<std::vector<double>> cycles(list.size());
  std::vector<double> secPerCycle;
  benchRounds(1, warmup, repeats, [&](size_t, bool timed) {
    reset(v);
    double s = runOnce(v, v.profiled->entry());
    if (!timed)
      return;
    double total = static_cast<double>(ticks[list.size()] - ticks[0]);
    if (total > 0)
      secPerCycle.push_back(s / total);
    for (size_t c = 0; c < list.size(); ++c)
      cycles[c].push_back(static_cast<double>(ticks[c + 1] - ticks[c]));
  });
  double scale = secPerCycle.empty() ? 0 : summarize(secPerCycle).median;
  std::map<std::string, std::vector<NodeId>> nodesOf = kernelNodes(v);
  for (size_t c = 0; c < list.size(); ++c) {
    KernelInfo k;
    k.name = list[c];
    Timing t = summarize(cycles[c]);
    k.time = {t.median * scale, t.min * scale, t.max * scale};
    if (auto it = nodesOf.find(k.name); it != nodesOf.end())
      for (NodeId id : it->second) {
        k.flops += nodeFlops(v.graph, id, v.r.batch);
        k.bytes += nodeBytes(v.graph, id, v.r.batch);
      }
    v.r.kernels.push_back(k);
  }
}

/// Variant (`batch`, fusion set `fuse`) of model `m`: compiled cold, from
/// the cache and profiled, its leaves made, one step run.
std::unique_ptr<Variant> makeVariant(const LoadedModel &m, int64_t batch,
                                     const std::string &fuse) {
  auto v = std::make_unique<Variant>();
  v->r.batch = batch;
  v->r.fuse = fuse;
  PipelineOptions po;
  po.fusions = parseFusionList(fuse);
  v->graph = compileTo(m, Stage::Fused, po);
  v->plan = planMemory(v->graph, batch);
  v->r.arenaBytes = v->plan.arenaBytes;
  CpuOptions cold;
  cold.noCache = true;
  Clock::time_point t0 = Clock::now();
  v->program = compileCpu(v->graph, v->plan, cold);
  v->r.compileCold = std::chrono::duration<double>(Clock::now() - t0).count();
  compileCpuCached(v->graph, v->plan, CpuOptions{}); // fills the cache
  t0 = Clock::now();
  v->program = compileCpuCached(v->graph, v->plan, CpuOptions{});
  v->r.compileCached =
      std::chrono::duration<double>(Clock::now() - t0).count();
  CpuOptions prof;
  prof.profile = true;
  v->profiled = compileCpuCached(v->graph, v->plan, prof);
  size_t bytes = static_cast<size_t>(
      (std::max<int64_t>(v->plan.arenaBytes, 64) + 63) / 64 * 64);
  v->arena = static_cast<float *>(std::aligned_alloc(64, bytes));
  NN_ASSERT(v->arena, "cannot allocate the arena");
  std::memset(v->arena, 0, bytes);
  makeLeaves(*v, m.model.recipe);
  v->r.flops = graphFlops(v->graph, batch);
  v->result = oneStep(*v);
  return v;
}

int runBench(const Args &args) {
  LoadedModel m = loadModel(args); // --batch is bench's own: a list
  const Recipe &recipe = m.model.recipe;
  std::string backend = args.get("backend").value_or("cpu");
  int64_t repeats = args.getInt("repeats").value_or(20);
  int64_t warmup = args.getInt("warmup").value_or(3);
  if (repeats < 1 || repeats > 100000 || warmup < 0 || warmup > 100000)
    throw UserError("nnc: error: --repeats must be at least 1 and --warmup "
                    "at least 0");
  std::vector<int64_t> batches =
      parseBatches(args.get("batch").value_or(std::to_string(recipe.batch)));
  std::vector<std::string> fuses =
      parseFuseSets(args.get("fuse").value_or("all;none"));
  if (backend != "cpu" && backend != "cuda")
    throw UserError("nnc: error: nnc bench times the cpu and cuda backends "
                    "(got --backend=" + backend + ")");
  bool tf32 = tf32Flag(args, backend);
  if (backend == "cuda")
    return runCudaBench(m, batches, fuses, repeats, warmup, tf32,
                        args.has("json"));
  if (auto t = args.getInt("threads")) {
    if (*t < 1 || *t > 256)
      throw UserError("nnc: error: --threads must be from 1 to 256");
    setCpuThreads(static_cast<int>(*t));
  }
  MachinePeak peak = machinePeak(args.has("measure-peak"));

  std::vector<std::unique_ptr<Variant>> variants;
  for (int64_t batch : batches)
    for (const std::string &f : fuses)
      variants.push_back(makeVariant(m, batch, f));
  {
    std::vector<BenchResult> rs;
    std::vector<TensorMap> results;
    for (const auto &v : variants) {
      rs.push_back(v->r);
      results.push_back(v->result);
    }
    checkVariantsAgree(rs, results);
  }
  std::vector<std::vector<double>> samples(variants.size());
  benchRounds(variants.size(), warmup, repeats, [&](size_t i, bool timed) {
    reset(*variants[i]);
    double s = runOnce(*variants[i], variants[i]->program->entry());
    if (timed)
      samples[i].push_back(s);
  });
  std::vector<BenchResult> rs;
  for (size_t i = 0; i < variants.size(); ++i) {
    Variant &v = *variants[i];
    v.r.step = summarize(samples[i]);
    profileKernels(v, static_cast<int>(warmup), static_cast<int>(repeats));
    for (const KernelInfo &k : v.r.kernels)
      v.r.bytes += k.bytes;
    rs.push_back(v.r);
  }
  BenchSetup setup;
  setup.model = m.model.graph.name;
  setup.backend = "cpu";
  setup.device = peak.cpu;
  setup.threads = cpuThreads();
  setup.peakGflops = peak.gflops;
  setup.peakNote = (peak.width > 0 ? std::to_string(peak.width) + "-wide FMA, "
                                    : std::string("no FMA, ")) +
                   (peak.cached ? "measured earlier, cached" : "measured now");
  setup.timedBy = "steady_clock";
  setup.repeats = repeats;
  setup.warmup = warmup;
  printBench(setup, rs, args.has("json"));
  return 0;
}

} // namespace

const Command &benchCommand() {
  static const Command c{
      "bench",
      "time the compiled training step and each kernel, fused vs unfused",
      {{"batch", "N[,N...]", "batch sizes (default: the recipe's)"},
       {"fuse", "SETS", "fusion sets separated by ';' (default 'all;none'; "
                        "'all,none' also means both)"},
       {"repeats", "N", "timed runs of each variant (default 20)"},
       {"warmup", "N", "untimed runs first (default 3)"},
       {"threads", "N", "threads of the CPU backend (default: all)"},
       {"backend", "NAME", "cpu (default) or cuda"},
       precisionFlag(),
       {"measure-peak", "", "measure the machine's peak again (on a quiet "
                            "machine) and cache it"},
       {"json", "", "print one JSON object instead of tables"}},
      runBench};
  return c;
}

} // namespace nn

#endif // NNC_HAVE_CPU_BACKEND
