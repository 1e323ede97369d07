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
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/ThreadPool.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/MemoryPlan.h"
#include "runtime/Json.h"
#include "runtime/LeafChecks.h"
#include "runtime/ParamInit.h"
#include "runtime/Rng.h"
#include "tools/Driver.h"
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

struct Timing {
  double median = 0, min = 0, max = 0;
};

Timing summarize(std::vector<double> v) {
  NN_ASSERT(!v.empty(), "no samples");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {med, v.front(), v.back()};
}

/// One kernel call of the step: its function name, FLOPs and bytes.
struct KernelInfo {
  std::string name;
  double flops = 0, bytes = 0;
  Timing time;
};

/// Bytes a node reads and writes at `batch`: each operand once, the result
/// once (scalar constants are inlined: free).
double nodeBytes(const Graph &g, NodeId id, int64_t batch) {
  auto bytes = [&](NodeId v) {
    const Node &n = g[v];
    if (n.op == OpKind::Const && n.values.size() == 1) // inlined
      return 0.0;
    return 4.0 * static_cast<double>(n.type.numelPerSample()) *
           (n.type.hasBatch() ? static_cast<double>(batch) : 1.0);
  };
  double total = bytes(id);
  for (NodeId in : g[id].inputs)
    total += bytes(in);
  return total;
}

/// One variant (batch, fusion set) compiled twice: plain and profiled.
struct Variant {
  int64_t batch = 0;
  std::string fuse;
  Graph graph;
  MemoryPlan plan;
  std::unique_ptr<CpuProgram> program, profiled;
  double compileCold = 0, compileCached = 0;
  std::vector<std::vector<float>> leaves; // in cpuLeafOrder
  std::vector<std::vector<float>> pristine;
  float *arena = nullptr;
  Timing step;
  double flops = 0, bytes = 0;
  std::vector<KernelInfo> kernels;
  TensorMap result; // outputs and updated leaves after one step

  ~Variant() { std::free(arena); }
};

/// Leaves of `g` for `batch` samples: parameters from their initializers,
/// state zero, inputs uniform in [0, 1), labels valid for their kind; the
/// same values for every variant of a model (same seed, same order).
void makeLeaves(Variant &v, const Recipe &recipe) {
  const Graph &g = v.graph;
  TensorMap state = initState(g, recipe.seed);
  Rng rng(recipe.seed + 1);
  for (NodeId id : cpuLeafOrder(g)) {
    const Node &n = g[id];
    int64_t count = n.type.numelPerSample() * (n.type.hasBatch() ? v.batch : 1);
    std::vector<float> data(static_cast<size_t>(count));
    if (n.op == OpKind::Param || n.op == OpKind::State) {
      data = state.at(n.name).data;
    } else if (n.op == OpKind::Label && n.labelKind == LabelKind::Class) {
      for (float &x : data)
        x = static_cast<float>(rng.below(static_cast<uint64_t>(n.classes)));
    } else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary) {
      for (float &x : data)
        x = static_cast<float>(rng.below(2));
    } else {
      for (float &x : data)
        x = static_cast<float>(rng.uniform());
    }
    v.leaves.push_back(std::move(data));
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
  fn(ptrs.data(), v.arena, v.batch);
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
    Tensor t(concreteDims(n.type, v.batch));
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

/// "" when `a` and `b` agree to float rounding, else the first difference.
std::string disagreement(const TensorMap &a, const TensorMap &b) {
  for (const auto &[name, ta] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.data.size() != ta.data.size())
      return "'" + name + "' is missing or has another shape";
    for (size_t i = 0; i < ta.data.size(); ++i) {
      double x = ta.data[i], y = it->second.data[i];
      if (!(std::fabs(x - y) <= 1e-5 + 1e-4 * std::max(std::fabs(x),
                                                        std::fabs(y))))
        return "'" + name + "'[" + std::to_string(i) + "]: " +
               std::to_string(x) + " vs " + std::to_string(y);
    }
  }
  return "";
}

/// FLOPs and bytes of the kernel called `name` (a node's kernel, a weight
/// gradient "_with_bias" its bias gradient, or the step's optimizer).
void kernelCost(const Graph &g, const std::map<std::string, NodeId> &byName,
                KernelInfo &k, int64_t batch) {
  std::vector<NodeId> nodes;
  std::string base = k.name;
  const std::string pair = "_with_bias", opt = "_optimizer";
  if (base.size() > opt.size() &&
      base.compare(base.size() - opt.size(), opt.size(), opt) == 0 &&
      !byName.count(base)) {
    for (NodeId id = 0; id < g.size(); ++id)
      if (g[id].op == OpKind::Sgd || g[id].op == OpKind::SgdMomentum)
        nodes.push_back(id);
  } else if (base.size() > pair.size() &&
             base.compare(base.size() - pair.size(), pair.size(), pair) == 0) {
    base.resize(base.size() - pair.size());
    if (auto it = byName.find(base); it != byName.end()) {
      NodeId w = it->second;
      nodes.push_back(w);
      // Its bias gradient: the other reader of the weight gradient's d.
      NodeId d = g[w].inputs[1];
      for (NodeId id = 0; id < g.size(); ++id)
        if (id != w && (g[id].op == OpKind::DenseGradBias ||
                        (g[id].op == OpKind::Sum && g[id].axis == 0)) &&
            !g[id].inputs.empty() && g[id].inputs[0] == d) {
          nodes.push_back(id);
          break;
        }
    }
  } else if (auto it = byName.find(base); it != byName.end()) {
    nodes.push_back(it->second);
  }
  for (NodeId id : nodes) {
    k.flops += nodeFlops(g, id, batch);
    k.bytes += nodeBytes(g, id, batch);
  }
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
  for (int r = 0; r < warmup + repeats; ++r) {
    reset(v);
    double s = runOnce(v, v.profiled->entry());
    if (r < warmup)
      continue;
    double total = static_cast<double>(ticks[list.size()] - ticks[0]);
    if (total > 0)
      secPerCycle.push_back(s / total);
    for (size_t c = 0; c < list.size(); ++c)
      cycles[c].push_back(static_cast<double>(ticks[c + 1] - ticks[c]));
  }
  double scale = secPerCycle.empty() ? 0 : summarize(secPerCycle).median;
  std::map<std::string, NodeId> byName;
  for (NodeId id = 0; id < v.graph.size(); ++id)
    byName[cpuKernelName(v.graph, id)] = id;
  for (size_t c = 0; c < list.size(); ++c) {
    KernelInfo k;
    k.name = list[c];
    Timing t = summarize(cycles[c]);
    k.time = {t.median * scale, t.min * scale, t.max * scale};
    kernelCost(v.graph, byName, k, v.batch);
    v.kernels.push_back(k);
  }
}

std::vector<int64_t> parseBatches(const std::string &spec) {
  std::vector<int64_t> out;
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) {
    char *end = nullptr;
    long long b = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || b < 1 || b > (1 << 20))
      throw UserError("nnc: error: invalid value '" + spec +
                      "' for --batch: expected batch sizes from 1 to "
                      "1048576, separated by commas");
    out.push_back(b);
  }
  if (out.empty())
    throw UserError("nnc: error: --batch needs at least one batch size");
  return out;
}

std::string fmt(const char *f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

int runBench(const Args &args) {
  LoadedModel m = loadModel(args); // --batch is bench's own: a list
  const Recipe &recipe = m.model.recipe;
  std::string backend = args.get("backend").value_or("cpu");
  if (backend != "cpu")
    throw UserError("nnc: error: nnc bench times the cpu backend only (got "
                    "--backend=" + backend + ")");
  if (auto t = args.getInt("threads")) {
    if (*t < 1 || *t > 256)
      throw UserError("nnc: error: --threads must be from 1 to 256");
    setCpuThreads(static_cast<int>(*t));
  }
  int64_t repeats = args.getInt("repeats").value_or(20);
  int64_t warmup = args.getInt("warmup").value_or(3);
  if (repeats < 1 || repeats > 100000 || warmup < 0 || warmup > 100000)
    throw UserError("nnc: error: --repeats must be at least 1 and --warmup "
                    "at least 0");
  std::vector<int64_t> batches =
      parseBatches(args.get("batch").value_or(std::to_string(recipe.batch)));
  std::vector<std::string> fuses;
  {
    std::string spec = args.get("fuse").value_or("all;none");
    // "--fuse=all,none" means the two sets, not a list of fusions.
    std::stringstream ss(spec == "all,none" ? "all;none" : spec);
    for (std::string f; std::getline(ss, f, ';');)
      if (!f.empty()) {
        parseFusionList(f); // checks the names
        fuses.push_back(f);
      }
    if (fuses.empty())
      throw UserError("nnc: error: --fuse needs at least one fusion set");
  }
  bool json = args.has("json");
  MachinePeak peak = machinePeak(args.has("measure-peak"));

  std::vector<std::unique_ptr<Variant>> variants;
  for (int64_t batch : batches)
    for (const std::string &f : fuses) {
      auto v = std::make_unique<Variant>();
      v->batch = batch;
      v->fuse = f;
      PipelineOptions po;
      po.fusions = parseFusionList(f);
      v->graph = compileTo(m, Stage::Fused, po);
      v->plan = planMemory(v->graph, batch);
      CpuOptions cold;
      cold.noCache = true;
      Clock::time_point t0 = Clock::now();
      v->program = compileCpu(v->graph, v->plan, cold);
      v->compileCold =
          std::chrono::duration<double>(Clock::now() - t0).count();
      compileCpuCached(v->graph, v->plan, CpuOptions{}); // fills the cache
      t0 = Clock::now();
      v->program = compileCpuCached(v->graph, v->plan, CpuOptions{});
      v->compileCached =
          std::chrono::duration<double>(Clock::now() - t0).count();
      CpuOptions prof;
      prof.profile = true;
      v->profiled = compileCpuCached(v->graph, v->plan, prof);
      size_t bytes = static_cast<size_t>(
          (std::max<int64_t>(v->plan.arenaBytes, 64) + 63) / 64 * 64);
      v->arena = static_cast<float *>(std::aligned_alloc(64, bytes));
      NN_ASSERT(v->arena, "cannot allocate the arena");
      std::memset(v->arena, 0, bytes);
      makeLeaves(*v, recipe);
      v->flops = graphFlops(v->graph, batch);
      v->result = oneStep(*v);
      variants.push_back(std::move(v));
    }
  // Every variant of a batch size must compute the same step.
  for (size_t i = 0; i < variants.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (variants[i]->batch == variants[j]->batch) {
        std::string d = disagreement(variants[j]->result, variants[i]->result);
        if (!d.empty())
          throw UserError("nnc: error: --fuse=" + variants[j]->fuse +
                          " and --fuse=" + variants[i]->fuse +
                          " disagree at batch " +
                          std::to_string(variants[i]->batch) + " (" + d +
                          "); not reporting timings of wrong code");
      }
  // Interleaved: round r times every variant once, so that a noisy period
  // of the machine hits them all alike.
  std::vector<std::vector<double>> samples(variants.size());
  for (int64_t r = 0; r < warmup + repeats; ++r)
    for (size_t i = 0; i < variants.size(); ++i) {
      reset(*variants[i]);
      double s = runOnce(*variants[i], variants[i]->program->entry());
      if (r >= warmup)
        samples[i].push_back(s);
    }
  for (size_t i = 0; i < variants.size(); ++i) {
    Variant &v = *variants[i];
    v.step = summarize(samples[i]);
    profileKernels(v, static_cast<int>(warmup), static_cast<int>(repeats));
    for (const KernelInfo &k : v.kernels)
      v.bytes += k.bytes;
  }

  auto gflops = [](double flops, double s) { return s > 0 ? flops / s / 1e9 : 0; };
  auto pct = [&](double gf) { return peak.gflops > 0 ? 100 * gf / peak.gflops : 0; };
  if (json) {
    std::ostringstream o;
    o << "{\"model\": " << jsonString(m.model.graph.name)
      << ", \"backend\": \"cpu\", \"threads\": " << cpuThreads()
      << ", \"cpu\": " << jsonString(peak.cpu)
      << ", \"peak_gflops\": " << fmt("%.1f", peak.gflops)
      << ", \"repeats\": " << repeats << ", \"warmup\": " << warmup
      << ", \"results\": [";
    bool first = true;
    auto row = [&](const Variant &v, const char *scope, const std::string &name,
                   const Timing &t, double flops, double bytes) {
      o << (first ? "" : ",") << "\n  {\"batch\": " << v.batch
        << ", \"fuse\": " << jsonString(v.fuse) << ", \"scope\": \"" << scope
        << "\", \"name\": " << jsonString(name) << ", \"median_s\": "
        << fmt("%.9f", t.median) << ", \"min_s\": " << fmt("%.9f", t.min)
        << ", \"max_s\": " << fmt("%.9f", t.max) << ", \"flops\": "
        << fmt("%.0f", flops) << ", \"gflops\": "
        << fmt("%.3f", gflops(flops, t.median)) << ", \"peak_pct\": "
        << fmt("%.2f", pct(gflops(flops, t.median))) << ", \"bytes\": "
        << fmt("%.0f", bytes) << ", \"gbps\": "
        << fmt("%.3f", t.median > 0 ? bytes / t.median / 1e9 : 0);
      if (std::string(scope) == "step")
        o << ", \"kernels\": " << v.kernels.size() << ", \"arena_bytes\": "
          << v.plan.arenaBytes << ", \"compile_cold_s\": "
          << fmt("%.4f", v.compileCold) << ", \"compile_cached_s\": "
          << fmt("%.4f", v.compileCached);
      o << "}";
      first = false;
    };
    for (const auto &v : variants) {
      row(*v, "step", "step", v->step, v->flops, v->bytes);
      for (const KernelInfo &k : v->kernels)
        row(*v, "kernel", k.name, k.time, k.flops, k.bytes);
    }
    o << "\n], \"ratios\": [";
    first = true;
    for (const auto &f : variants)
      for (const auto &u : variants)
        if (f->batch == u->batch && f->fuse == "all" && u->fuse == "none") {
          o << (first ? "" : ",") << "\n  {\"batch\": " << f->batch
            << ", \"name\": \"step\", \"unfused_over_fused\": "
            << fmt("%.3f", u->step.median / f->step.median) << "}";
          first = false;
        }
    o << "\n]}\n";
    std::cout << o.str();
    return 0;
  }

  std::cout << "nnc bench " << m.model.graph.name << ": training step on cpu, "
            << cpuThreads() << " thread" << (cpuThreads() == 1 ? "" : "s")
            << "; " << peak.cpu << ", peak "
            << fmt("%.1f", peak.gflops) << " GFLOP/s fp32 ("
            << (peak.cached ? "measured earlier, cached" : "measured now")
            << ")\nmedian (min-max) of " << repeats << " runs after " << warmup
            << " warm-up, variants interleaved\n\n";
  std::printf("%6s  %-5s %24s %9s %7s %9s %7s %8s %10s %10s\n", "batch",
              "fuse", "step ms (min-max)", "GFLOP/s", "%peak", "MB moved",
              "GB/s", "kernels", "arena KiB", "compile s");
  for (const auto &v : variants) {
    double gf = gflops(v->flops, v->step.median);
    std::string range = fmt("%.3f", v->step.median * 1e3) + " (" +
                        fmt("%.3f", v->step.min * 1e3) + "-" +
                        fmt("%.3f", v->step.max * 1e3) + ")";
    std::printf("%6lld  %-5s %24s %9.1f %6.1f%% %9.2f %7.1f %8zu %10.0f "
                "%5.3f/%.3f\n",
                static_cast<long long>(v->batch), v->fuse.c_str(),
                range.c_str(), gf, pct(gf), v->bytes / 1e6,
                v->bytes / v->step.median / 1e9, v->kernels.size(),
                static_cast<double>(v->plan.arenaBytes) / 1024, v->compileCold,
                v->compileCached);
  }
  std::cout << "(compile s: cold / from the JIT cache)\n";
  for (const auto &f : variants)
    for (const auto &u : variants)
      if (f->batch == u->batch && f->fuse == "all" && u->fuse == "none")
        std::printf("batch %lld: unfused/fused step time %.2fx\n",
                    static_cast<long long>(f->batch),
                    u->step.median / f->step.median);
  for (const auto &v : variants) {
    std::printf("\nkernels at batch %lld, --fuse=%s (median us; GFLOP/s; "
                "GB/s; share of the step)\n",
                static_cast<long long>(v->batch), v->fuse.c_str());
    double total = 0;
    for (const KernelInfo &k : v->kernels)
      total += k.time.median;
    for (const KernelInfo &k : v->kernels)
      std::printf("  %-52s %9.1f %8.1f %7.1f %6.1f%%\n", k.name.c_str(),
                  k.time.median * 1e6, gflops(k.flops, k.time.median),
                  k.time.median > 0 ? k.bytes / k.time.median / 1e9 : 0,
                  total > 0 ? 100 * k.time.median / total : 0);
  }
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
       {"backend", "NAME", "cpu (the only one benchmarked so far)"},
       {"measure-peak", "", "measure the machine's peak again (on a quiet "
                            "machine) and cache it"},
       {"json", "", "print one JSON object instead of tables"}},
      runBench};
  return c;
}

} // namespace nn

#endif // NNC_HAVE_CPU_BACKEND
