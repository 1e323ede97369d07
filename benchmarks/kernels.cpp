//===- kernels.cpp - nnc's kernels and steps under Google Benchmark -------===//
///
/// \file
/// nnc measured from outside, through the public API the tests use: graphs
/// from IR text or `.nn` files, through the passes (fused: every fusion;
/// unfused: none), planned, compiled by compileCpu and called through their
/// entry point. What is timed:
///
///   DenseFwd, DenseFwdBwd   one relu dense layer, forward alone, and forward
///                           plus its backward from an upstream gradient
///                           (dW, db, dx), fused and unfused, over the
///                           mnist_mlp shapes (batch 64-256) and memory-bound
///                           ones (batch 4096, widths 1024-4096)
///   Chain                   an elementwise chain, fused and unfused, with
///                           per-column or per-element operands
///   Gemm, Sgemm             a plain product graph (A B, A^T B, A B^T) vs
///                           OpenBLAS cblas_sgemm on the same shapes; on an
///                           AVX-512 host also GemmAvx2, the same graph
///                           compiled for x86-64-v3 (the AVX2 6 x 16 tile)
///   JitCompile              the mnist_mlp training step compiled cold
///                           (noCache) and loaded from the JIT cache
///   TrainStep               one whole mnist_mlp training step, batch 64
///   Conv                    conv2d, conv2d_grad_input, conv2d_grad_weight
///                           at examples/fashion_cnn.nn's two conv layers
///                           (batch 64)
///
/// Every benchmark reports FLOPS (a rate: Google Benchmark prints G/s), the
/// same count for the fused and unfused variant (the unfused graph's). Fused
/// and unfused variants are run once from the same leaves before timing;
/// a benchmark whose variants disagree reports an error instead of a time.
/// The thread counts of nnc and OpenBLAS are in the context header.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuBackend.h"
#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/ThreadPool.h"
#include "frontend/Frontend.h"
#include "ir/IRParser.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "passes/MemoryPlan.h"
#include "passes/Pipeline.h"

#include <benchmark/benchmark.h>

#ifdef NNC_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include <unistd.h>

using namespace nn;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

[[noreturn]] void fail(const std::string &what, const DiagEngine &diags) {
  std::fprintf(stderr, "nnc_kernels: %s\n%s\n", what.c_str(),
               diags.str().c_str());
  std::exit(3);
}

/// IR text, parsed and typed (no other pass).
Graph typedGraph(const std::string &name, const std::string &text) {
  DiagEngine diags;
  diags.addSource(name, text);
  try {
    return inferShapes(parseGraph(name, text, diags), diags);
  } catch (const DiagnosedError &) {
    fail("bad benchmark graph " + name, diags);
  }
}

/// examples/<file> through the whole pipeline with these fusions.
Graph trainingStep(const std::string &file,
                   const std::set<std::string> &fusions) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + file;
  std::string text = readFile(path);
  DiagEngine diags;
  diags.addSource(path, text);
  try {
    std::optional<Model> m = parseModel(path, text, diags);
    if (!m)
      fail("cannot parse " + path, diags);
    PipelineOptions opts;
    opts.fusions = fusions;
    return runPipeline(m->graph, m->recipe, Stage::Fused, opts, diags);
  } catch (const DiagnosedError &) {
    fail("cannot compile " + path, diags);
  }
}

const std::set<std::string> &allFusions() {
  static const std::set<std::string> all(fusionNames().begin(),
                                         fusionNames().end());
  return all;
}

/// A graph compiled for one batch size, with its leaves and arena.
struct Compiled {
  Graph graph;
  int64_t batch = 0;
  MemoryPlan plan;
  std::unique_ptr<CpuProgram> program;
  std::vector<std::vector<float>> leaves; // in leafOrder()
  std::vector<const float *> pointers;
  float *arena = nullptr;
  int kernels = 0; ///< non-leaf nodes: one kernel each (before grouping)

  Compiled(Graph g, int64_t batch, const CpuOptions &opts = {})
      : graph(std::move(g)), batch(batch) {
    plan = planMemory(graph, batch);
    program = compileCpu(graph, plan, opts);
    arena = static_cast<float *>(std::aligned_alloc(
        kArenaAlign,
        static_cast<size_t>(std::max<int64_t>(plan.arenaBytes, kArenaAlign))));
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    for (NodeId id : program->leafOrder()) {
      const Node &n = graph[id];
      int64_t count = n.type.numel(batch);
      std::vector<float> data(static_cast<size_t>(count));
      for (float &x : data) {
        if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
          x = static_cast<float>(rng() % static_cast<uint32_t>(n.classes));
        else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
          x = static_cast<float>(rng() % 2);
        else if (n.op == OpKind::Param)
          x = 0.1f * u(rng);
        else if (n.op == OpKind::State)
          x = 0;
        else
          x = u(rng);
      }
      leaves.push_back(std::move(data));
    }
    for (const std::vector<float> &l : leaves)
      pointers.push_back(l.data());
    for (NodeId id = 0; id < graph.size(); ++id)
      kernels += inArena(graph, id) ? 1 : 0;
  }
  ~Compiled() { std::free(arena); }

  void step() { program->entry()(pointers.data(), arena, batch); }

  /// Each output's values after the last step, then each updated leaf's.
  std::vector<std::vector<float>> results() const {
    std::vector<std::vector<float>> r;
    for (const Output &o : graph.outputs) {
      const float *p = arena + plan.offset[o.node] / 4;
      r.emplace_back(p, p + graph[o.node].type.numel(batch));
    }
    for (size_t i = 0; i < leaves.size(); ++i)
      if (graph[program->leafOrder()[i]].op == OpKind::Param)
        r.push_back(leaves[i]);
    return r;
  }
};

/// "" when `a` and `b` agree to 1e-3 of each tensor's largest magnitude,
/// else what differs.
std::string disagreement(const std::vector<std::vector<float>> &a,
                         const std::vector<std::vector<float>> &b) {
  if (a.size() != b.size())
    return "different numbers of results";
  for (size_t t = 0; t < a.size(); ++t) {
    if (a[t].size() != b[t].size())
      return "result " + std::to_string(t) + " differs in size";
    double scale = 0;
    for (float x : b[t])
      scale = std::max(scale, std::fabs(double(x)));
    for (size_t i = 0; i < a[t].size(); ++i)
      if (!(std::fabs(double(a[t][i]) - double(b[t][i])) <= 1e-3 * scale))
        return "result " + std::to_string(t) + "[" + std::to_string(i) +
               "]: fused " + std::to_string(a[t][i]) + ", unfused " +
               std::to_string(b[t][i]);
  }
  return "";
}

/// A fused and an unfused compile of one graph, checked against each other
/// once from the same leaves. The last pair is kept, so that the variants
/// (and repetitions) of one benchmark, which run one after the other, are
/// compiled once; older pairs are freed (the large shapes take gigabytes).
struct Pair {
  std::unique_ptr<Compiled> fused, unfused;
  double flops = 0; ///< of the unfused graph: the same work for both
  std::string error;
};

Pair &pairFor(const std::string &key, const std::function<Graph()> &plain,
              const std::function<Graph(const Graph &)> &fuseIt,
              int64_t batch, const CpuOptions &opts = {}) {
  static std::map<std::string, std::unique_ptr<Pair>> pairs;
  std::string fullKey = key + "/" + std::to_string(batch);
  if (auto it = pairs.find(fullKey); it != pairs.end())
    return *it->second;
  pairs.clear();
  std::unique_ptr<Pair> &p = pairs[fullKey];
  p = std::make_unique<Pair>();
  Graph g = plain();
  p->flops = graphFlops(g, batch);
  p->fused = std::make_unique<Compiled>(fuseIt(g), batch, opts);
  p->unfused = std::make_unique<Compiled>(std::move(g), batch, opts);
  // The same leaves for both (fusion keeps every leaf, in order).
  std::vector<NodeId> fl = p->fused->program->leafOrder();
  std::vector<NodeId> ul = p->unfused->program->leafOrder();
  bool same = fl.size() == ul.size();
  for (size_t i = 0; same && i < fl.size(); ++i)
    same = p->fused->graph[fl[i]].name == p->unfused->graph[ul[i]].name;
  if (!same) {
    p->error = "the fused graph's leaves differ";
    return *p;
  }
  p->fused->leaves = p->unfused->leaves;
  for (size_t i = 0; i < p->fused->leaves.size(); ++i)
    p->fused->pointers[i] = p->fused->leaves[i].data();
  p->fused->step();
  p->unfused->step();
  p->error = disagreement(p->fused->results(), p->unfused->results());
  return *p;
}

Graph fuseAll(const Graph &g) {
  FusionLog log;
  return fuse(g, allFusions(), log);
}

void runPair(benchmark::State &state, Pair &p, bool fused) {
  if (!p.error.empty()) {
    state.SkipWithError(("fused and unfused disagree: " + p.error).c_str());
    return;
  }
  Compiled &c = fused ? *p.fused : *p.unfused;
  for (auto _ : state) {
    c.step();
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(p.flops * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["kernels"] = c.kernels;
}

//===----------------------------------------------------------------------===//
// Dense layers and the elementwise chain
//===----------------------------------------------------------------------===//

std::string denseText(int64_t in, int64_t out, bool backward) {
  std::ostringstream s;
  s << "graph dense {\n"
    << "  %x = input \"x\" : f32[N," << in << "]\n"
    << "  %w = param \"w\" {init = he, weight} : f32[" << in << "," << out
    << "]\n"
    << "  %b = param \"b\" {init = zeros} : f32[" << out << "]\n"
    << "  %z = matmul %x, %w : ?\n"
    << "  %a = add %z, %b : ?\n"
    << "  %h = relu %a : ?\n"
    << "  output h = %h\n";
  if (backward) // the gradients autodiff writes for a hidden relu layer
    s << "  %dh = input \"dh\" : f32[N," << out << "]\n"
      << "  %s = step %a : ?\n"
      << "  %da = mul %dh, %s : ?\n"
      << "  %db = sum %da {axis = 0} : ?\n"
      << "  %wt = transpose %w : ?\n"
      << "  %dx = matmul %da, %wt : ?\n"
      << "  %xt = transpose %x : ?\n"
      << "  %dw = matmul %xt, %da : ?\n"
      << "  output dx = %dx\n"
      << "  output dw = %dw\n"
      << "  output db = %db\n";
  s << "}\n";
  return s.str();
}

/// Args: batch, in, out, fused (1/0).
void denseBench(benchmark::State &state, bool backward) {
  int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  std::string text = denseText(in, out, backward);
  Pair &p = pairFor(
      text, [&] { return typedGraph("dense.nnir", text); }, fuseAll, batch);
  runPair(state, p, state.range(3) != 0);
}

void BM_DenseFwd(benchmark::State &state) { denseBench(state, false); }
void BM_DenseFwdBwd(benchmark::State &state) { denseBench(state, true); }

/// Args: batch, width, bcast (1: s and t are per-column parameters, as a
/// bias is; 0: per-element inputs like x), fused (1/0).
void BM_Chain(benchmark::State &state) {
  int64_t batch = state.range(0), width = state.range(1);
  bool bcast = state.range(2) != 0;
  std::string st =
      bcast ? "param \"s\" {init = zeros} : f32[" + std::to_string(width) + "]"
            : "input \"s\" : f32[N," + std::to_string(width) + "]";
  std::string tt =
      bcast ? "param \"t\" {init = zeros} : f32[" + std::to_string(width) + "]"
            : "input \"t\" : f32[N," + std::to_string(width) + "]";
  std::ostringstream s;
  s << "graph chain {\n"
    << "  %x = input \"x\" : f32[N," << width << "]\n"
    << "  %s = " << st << "\n"
    << "  %t = " << tt << "\n"
    << "  %c1 = mul %x, %s : ?\n"
    << "  %c2 = add %c1, %t : ?\n"
    << "  %c3 = tanh %c2 : ?\n"
    << "  %c4 = mul %c3, %x : ?\n"
    << "  %y = sigmoid %c4 : ?\n"
    << "  output y = %y\n"
    << "}\n";
  std::string text = s.str();
  Pair &p = pairFor(
      text, [&] { return typedGraph("chain.nnir", text); }, fuseAll, batch);
  runPair(state, p, state.range(3) != 0);
  // Least traffic: x (and s, t when per element) read once, y written once.
  state.counters["BYTES"] = benchmark::Counter(
      (bcast ? 8.0 : 16.0) * double(batch * width) * double(state.iterations()),
      benchmark::Counter::kIsRate);
}

void mlpShapes(benchmark::internal::Benchmark *b) {
  for (int64_t batch : {64, 128, 256})
    for (auto [in, out] :
         {std::pair<int64_t, int64_t>{784, 128}, {128, 64}, {64, 10}})
      for (int fused : {1, 0})
        b->Args({batch, in, out, fused});
}

void wideShapes(benchmark::internal::Benchmark *b) {
  for (auto [in, out] :
       {std::pair<int64_t, int64_t>{1024, 1024}, {256, 4096}, {1024, 4096}})
    for (int fused : {1, 0})
      b->Args({4096, in, out, fused});
}

BENCHMARK(BM_DenseFwd)
    ->ArgNames({"batch", "in", "out", "fused"})
    ->Apply(mlpShapes)
    ->Apply(wideShapes)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DenseFwdBwd)
    ->ArgNames({"batch", "in", "out", "fused"})
    ->Apply(mlpShapes)
    ->Apply(wideShapes)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Chain)
    ->ArgNames({"batch", "width", "bcast", "fused"})
    ->ArgsProduct({{4096}, {1024, 4096}, {1, 0}, {1, 0}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

//===----------------------------------------------------------------------===//
// Convolutions (implicit GEMM) at the fashion_cnn shapes
//===----------------------------------------------------------------------===//

/// The convolution layers of examples/fashion_cnn.nn: in channels, size,
/// out channels (3 x 3, stride 1, padding 1).
constexpr int64_t kConvLayers[][3] = {{1, 28, 32}, {32, 14, 64}};

/// One op of layer `layer`: 0 conv2d, 1 conv2d_grad_input, 2
/// conv2d_grad_weight.
Graph convGraph(int64_t layer, int64_t op) {
  auto [c, hw, o] = std::tuple(kConvLayers[layer][0], kConvLayers[layer][1],
                               kConvLayers[layer][2]);
  auto img = [&](int64_t ch) {
    return "f32[N," + std::to_string(ch) + "," + std::to_string(hw) + "," +
           std::to_string(hw) + "]";
  };
  std::string win = "kernel = [3, 3], stride = [1, 1], padding = [1, 1]";
  std::ostringstream s;
  s << "graph conv {\n"
    << "  %x = input \"x\" : " << img(c) << "\n"
    << "  %dy = input \"dy\" : " << img(o) << "\n"
    << "  %w = param \"w\" {init = zeros} : f32[" << o << "," << c
    << ",3,3]\n";
  if (op == 0)
    s << "  %r = conv2d %x, %w {" << win << "} : ?\n";
  else if (op == 1)
    s << "  %r = conv2d_grad_input %dy, %w {" << win
      << ", shape = " << img(c) << "} : ?\n";
  else
    s << "  %r = conv2d_grad_weight %x, %dy {" << win << "} : ?\n";
  s << "  output r = %r\n}\n";
  return typedGraph("conv.nnir", s.str());
}

/// Args: layer (0, 1), op (0 forward, 1 data gradient, 2 weight
/// gradient), batch. FLOPS: 2 per multiply-add of the convolution.
void BM_Conv(benchmark::State &state) {
  int64_t layer = state.range(0), op = state.range(1), batch = state.range(2);
  Graph g = convGraph(layer, op);
  double flops = graphFlops(g, batch);
  Compiled c(std::move(g), batch);
  for (auto _ : state) {
    c.step();
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Conv)
    ->ArgNames({"layer", "op", "batch"})
    ->ArgsProduct({{0, 1}, {0, 1, 2}, {64}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

//===----------------------------------------------------------------------===//
// Generated GEMM against OpenBLAS sgemm
//===----------------------------------------------------------------------===//

/// Layouts: out[M,N] = A B (a [M,K], b [K,N]), A^T B (a [K,M]) or A B^T
/// (b [N,K]), the three products training needs.
enum Layout : int64_t { kAB = 0, kAtB = 1, kABt = 2 };

/// A plain product graph; the transposes become operands read in place by
/// the fusion pass (fused.matmul {transA} / {transB}), as in training.
Graph gemmGraph(int64_t m, int64_t n, int64_t k, int64_t layout) {
  auto dims = [](int64_t r, int64_t c) {
    return "f32[" + std::to_string(r) + "," + std::to_string(c) + "]";
  };
  std::ostringstream s;
  s << "graph gemm {\n"
    << "  %a = param \"a\" {init = zeros} : "
    << (layout == kAtB ? dims(k, m) : dims(m, k)) << "\n"
    << "  %b = param \"b\" {init = zeros} : "
    << (layout == kABt ? dims(n, k) : dims(k, n)) << "\n";
  if (layout == kAtB)
    s << "  %at = transpose %a : ?\n  %c = matmul %at, %b : ?\n";
  else if (layout == kABt)
    s << "  %bt = transpose %b : ?\n  %c = matmul %a, %bt : ?\n";
  else
    s << "  %c = matmul %a, %b : ?\n";
  s << "  output c = %c\n}\n";
  return typedGraph("gemm.nnir", s.str());
}

/// Args: M, N, K, layout.
void BM_Gemm(benchmark::State &state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  int64_t layout = state.range(3);
  std::ostringstream key;
  key << "gemm " << m << " " << n << " " << k << " " << layout;
  Pair &p = pairFor(
      key.str(), [&] { return gemmGraph(m, n, k, layout); }, fuseAll, 1);
  runPair(state, p, true);
}

/// BM_Gemm with the AVX2 micro-kernel (6 x 16, ymm) on an AVX-512 host:
/// the code generated for x86-64-v3, side by side with the host's 14 x 32
/// zmm kernel (registered only where the host has AVX-512).
void BM_GemmAvx2(benchmark::State &state) {
  int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  int64_t layout = state.range(3);
  std::ostringstream key;
  key << "gemm avx2 " << m << " " << n << " " << k << " " << layout;
  CpuOptions v3;
  v3.cpu = "x86-64-v3";
  Pair &p = pairFor(
      key.str(), [&] { return gemmGraph(m, n, k, layout); }, fuseAll, 1, v3);
  runPair(state, p, true);
}

#ifdef NNC_BENCH_OPENBLAS
/// Args: M, N, K, layout; row-major, as nnc's tensors.
void BM_Sgemm(benchmark::State &state) {
  int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2));
  int64_t layout = state.range(3);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> a(size_t(m) * k), b(size_t(k) * n), c(size_t(m) * n);
  for (float &x : a)
    x = u(rng);
  for (float &x : b)
    x = u(rng);
  CBLAS_TRANSPOSE ta = layout == kAtB ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = layout == kABt ? CblasTrans : CblasNoTrans;
  int lda = layout == kAtB ? m : k, ldb = layout == kABt ? k : n;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a.data(), lda, b.data(),
                ldb, 0.0f, c.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * m * n * k * double(state.iterations()),
                         benchmark::Counter::kIsRate);
}
#endif

/// The products of an mnist_mlp step at batch 64-256 (forward A B, weight
/// gradients A^T B summed over the batch, input gradients A B^T), then
/// large squares: {M, N, K, layout}.
std::vector<std::vector<int64_t>> gemmShapes() {
  std::vector<std::vector<int64_t>> shapes;
  for (int64_t batch : {64, 128, 256})
    for (auto [in, out] :
         {std::pair<int64_t, int64_t>{784, 128}, {128, 64}, {64, 10}}) {
      shapes.push_back({batch, out, in, kAB});
      shapes.push_back({in, out, batch, kAtB});
      if (in != 784) // the first layer has no input gradient
        shapes.push_back({batch, in, out, kABt});
    }
  for (int64_t layout : {kAB, kAtB, kABt})
    shapes.push_back({1024, 1024, 1024, layout});
  shapes.push_back({2048, 2048, 2048, kAB});
  return shapes;
}

/// BM_Gemm and BM_Sgemm shape by shape, so that the two sides of each
/// comparison run next to each other (the machine's speed drifts).
void registerGemms() {
  for (const std::vector<int64_t> &shape : gemmShapes()) {
    benchmark::RegisterBenchmark("BM_Gemm", BM_Gemm)
        ->ArgNames({"M", "N", "K", "layout"})
        ->Args(shape)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    if (__builtin_cpu_supports("avx512f"))
      benchmark::RegisterBenchmark("BM_GemmAvx2", BM_GemmAvx2)
          ->ArgNames({"M", "N", "K", "layout"})
          ->Args(shape)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
#ifdef NNC_BENCH_OPENBLAS
    benchmark::RegisterBenchmark("BM_Sgemm", BM_Sgemm)
        ->ArgNames({"M", "N", "K", "layout"})
        ->Args(shape)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
#endif
  }
}

//===----------------------------------------------------------------------===//
// JIT compile time and the whole training step
//===----------------------------------------------------------------------===//

/// Arg: 0 cold (compiled, CpuOptions.noCache), 1 from the JIT cache (a
/// private cache folder, filled before timing).
void BM_JitCompile(benchmark::State &state) {
  bool cached = state.range(0) != 0;
  Graph g = trainingStep("mnist_mlp.nn", allFusions());
  MemoryPlan plan = planMemory(g, 64);
  CpuOptions opts;
  opts.noCache = !cached;
  std::string dir;
  if (cached) {
    dir = (std::filesystem::temp_directory_path() /
           ("nnc_kernels_cache." + std::to_string(::getpid())))
              .string();
    std::filesystem::create_directories(dir);
    compileCpuCached(g, plan, opts, nullptr, dir);
  }
  for (auto _ : state) {
    CacheReport report;
    std::unique_ptr<CpuProgram> p =
        compileCpuCached(g, plan, opts, &report, dir);
    benchmark::DoNotOptimize(p->entry());
    if (cached && report.outcome != CacheOutcome::Hit) {
      state.SkipWithError("the JIT cache did not hit");
      break;
    }
  }
  if (cached)
    std::filesystem::remove_all(dir);
}

BENCHMARK(BM_JitCompile)
    ->ArgName("cached")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// The pipeline alone (parse, passes, memory plan) of mnist_mlp.
void BM_Pipeline(benchmark::State &state) {
  for (auto _ : state) {
    Graph g = trainingStep("mnist_mlp.nn", allFusions());
    benchmark::DoNotOptimize(planMemory(g, 64).arenaBytes);
  }
}

BENCHMARK(BM_Pipeline)->UseRealTime()->Unit(benchmark::kMillisecond);

/// One mnist_mlp training step (forward, backward, SGD update); args: batch,
/// fused (1/0). The leaves are updated in place each step, as in training.
void BM_TrainStep(benchmark::State &state) {
  int64_t batch = state.range(0);
  Pair &p = pairFor(
      "mnist_mlp step", [] { return trainingStep("mnist_mlp.nn", {}); },
      [](const Graph &) { return trainingStep("mnist_mlp.nn", allFusions()); },
      batch);
  runPair(state, p, state.range(1) != 0);
  state.counters["samples"] = benchmark::Counter(
      double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_TrainStep)
    ->ArgNames({"batch", "fused"})
    ->ArgsProduct({{64}, {1, 0}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::AddCustomContext("nnc_threads", std::to_string(cpuThreads()));
#ifdef NNC_BENCH_OPENBLAS
  // OpenBLAS reads OPENBLAS_NUM_THREADS when it loads; unset, it would take
  // every core. Either way, say what it uses.
  if (!std::getenv("OPENBLAS_NUM_THREADS"))
    openblas_set_num_threads(cpuThreads());
  benchmark::AddCustomContext("openblas_threads",
                              std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
#else
  benchmark::AddCustomContext("openblas",
                              "not built (libopenblas-dev missing)");
#endif
  registerGemms();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
