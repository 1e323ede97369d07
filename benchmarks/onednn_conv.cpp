//===- onednn_conv.cpp - oneDNN's convolutions at fashion_cnn's shapes ----===//
///
/// \file
/// The peer of nnc's generated convolutions: oneDNN (Debian's libdnnl-dev,
/// installed by benchmarks/install_onednn.sh, never a dependency of nnc)
/// timed under Google Benchmark at the shapes of examples/fashion_cnn.nn,
/// batch 64, float32, with bias:
///
///   conv1   1 x 28 x 28 -> 32 channels, 3 x 3, padding 1
///   conv2  32 x 14 x 14 -> 64 channels, 3 x 3, padding 1
///
/// Each shape in the three passes of training: forward (forward_training),
/// backward data (the input gradient; training does not need it for conv1,
/// whose input is the data, but it is timed for completeness) and backward
/// weights (the weight and bias gradients), each in two layouts:
///
///   nchw   every tensor in plain NCHW / OIHW, as nnc keeps them
///   any    oneDNN's own choice (blocked layouts such as nChw8c): its best
///          case; the reorders from and to NCHW are not timed
///
/// Algorithm: one primitive per (shape, pass, layout), created before
/// timing from the forward primitive descriptor as oneDNN's training
/// examples do; inputs filled with fixed pseudo-random values; each
/// iteration executes the primitive once and waits for the stream. FLOPS
/// (a rate: Google Benchmark prints G/s) counts 2 per multiply-add:
/// 2 x N x O x Ho x Wo x C x kh x kw for each pass (the bias adds and the
/// bias gradient not counted), as nnc's FlopCount counts a conv2d.
/// oneDNN's threads come from its CPU runtime (OpenMP in Debian's build:
/// OMP_NUM_THREADS); the context header says how many.
///
/// Usage: build/benchmarks/onednn_conv [--benchmark_filter=conv2]
///          [--benchmark_repetitions=5
///           --benchmark_report_aggregates_only=true]
///
//===----------------------------------------------------------------------===//

#include <oneapi/dnnl/dnnl.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DT = memory::data_type;

struct Shape {
  const char *name;
  int64_t n, c, h, w, o, k, pad;
  int64_t outH() const { return h + 2 * pad - k + 1; }
  int64_t outW() const { return w + 2 * pad - k + 1; }
  double flops() const {
    return 2.0 * double(n * o * outH() * outW()) * double(c * k * k);
  }
};

const Shape kShapes[] = {{"conv1", 64, 1, 28, 28, 32, 3, 1},
                         {"conv2", 64, 32, 14, 14, 64, 3, 1}};

enum class Pass { Forward, BackwardData, BackwardWeights };
const char *passName(Pass p) {
  switch (p) {
  case Pass::Forward:
    return "fwd";
  case Pass::BackwardData:
    return "bwd_data";
  case Pass::BackwardWeights:
    return "bwd_weights";
  }
  return "?";
}

dnnl::engine &cpuEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

/// A memory object of the primitive's chosen descriptor, filled with fixed
/// pseudo-random values in [-1, 1).
memory filled(const memory::desc &md, uint32_t seed) {
  memory m(md, cpuEngine());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto *p = static_cast<float *>(m.get_data_handle());
  for (size_t i = 0; i < md.get_size() / sizeof(float); ++i)
    p[i] = u(rng);
  return m;
}

/// The primitive of one (shape, pass, layout) and its arguments.
struct Conv {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  /// Which implementation oneDNN picked (jit:avx2, gemm:jit, ...).
  std::string impl;
};

Conv makeConv(const Shape &s, Pass pass, bool plain) {
  memory::dims src = {s.n, s.c, s.h, s.w}, wei = {s.o, s.c, s.k, s.k},
               bias = {s.o}, dst = {s.n, s.o, s.outH(), s.outW()},
               strides = {1, 1}, pad = {s.pad, s.pad};
  auto md = [&](const memory::dims &d, Tag t) {
    return memory::desc(d, DT::f32, plain ? t : Tag::any);
  };
  memory::desc srcMd = md(src, Tag::nchw), weiMd = md(wei, Tag::oihw),
               dstMd = md(dst, Tag::nchw),
               biasMd = memory::desc(bias, DT::f32, Tag::x);
  auto algo = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo,
                                      srcMd, weiMd, biasMd, dstMd, strides,
                                      pad, pad),
      cpuEngine());
  Conv c;
  switch (pass) {
  case Pass::Forward:
    c.prim = dnnl::convolution_forward(fwd);
    c.impl = fwd.impl_info_str();
    c.args = {{DNNL_ARG_SRC, filled(fwd.src_desc(), 1)},
              {DNNL_ARG_WEIGHTS, filled(fwd.weights_desc(), 2)},
              {DNNL_ARG_BIAS, filled(fwd.bias_desc(), 3)},
              {DNNL_ARG_DST, memory(fwd.dst_desc(), cpuEngine())}};
    break;
  case Pass::BackwardData: {
    dnnl::convolution_backward_data::primitive_desc bwd(
        dnnl::convolution_backward_data::desc(algo, srcMd, weiMd, dstMd,
                                              strides, pad, pad),
        cpuEngine(), fwd);
    c.prim = dnnl::convolution_backward_data(bwd);
    c.impl = bwd.impl_info_str();
    c.args = {{DNNL_ARG_DIFF_DST, filled(bwd.diff_dst_desc(), 4)},
              {DNNL_ARG_WEIGHTS, filled(bwd.weights_desc(), 2)},
              {DNNL_ARG_DIFF_SRC, memory(bwd.diff_src_desc(), cpuEngine())}};
    break;
  }
  case Pass::BackwardWeights: {
    dnnl::convolution_backward_weights::primitive_desc bwd(
        dnnl::convolution_backward_weights::desc(algo, srcMd, weiMd, biasMd,
                                                 dstMd, strides, pad, pad),
        cpuEngine(), fwd);
    c.prim = dnnl::convolution_backward_weights(bwd);
    c.impl = bwd.impl_info_str();
    c.args = {
        {DNNL_ARG_SRC, filled(bwd.src_desc(), 1)},
        {DNNL_ARG_DIFF_DST, filled(bwd.diff_dst_desc(), 4)},
        {DNNL_ARG_DIFF_WEIGHTS, memory(bwd.diff_weights_desc(), cpuEngine())},
        {DNNL_ARG_DIFF_BIAS, memory(bwd.diff_bias_desc(), cpuEngine())}};
    break;
  }
  }
  return c;
}

void bmConv(benchmark::State &state, const Shape &s, Pass pass, bool plain) {
  Conv c = makeConv(s, pass, plain);
  dnnl::stream strm(cpuEngine());
  c.prim.execute(strm, c.args); // first touch, JIT of the kernel
  strm.wait();
  for (auto _ : state) {
    c.prim.execute(strm, c.args);
    strm.wait();
  }
  state.counters["FLOPS"] = benchmark::Counter(
      s.flops() * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(c.impl);
}

void registerAll() {
  for (const Shape &s : kShapes)
    for (Pass p : {Pass::Forward, Pass::BackwardData, Pass::BackwardWeights})
      for (bool plain : {true, false}) {
        std::string name = std::string("BM_OneDnnConv/") + s.name + "/" +
                           passName(p) + "/" + (plain ? "nchw" : "any");
        benchmark::RegisterBenchmark(name.c_str(), bmConv, s, p, plain)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
}

} // namespace

int main(int argc, char **argv) {
  const dnnl_version_t *v = dnnl_version();
  benchmark::AddCustomContext(
      "onednn", std::to_string(v->major) + "." + std::to_string(v->minor) +
                    "." + std::to_string(v->patch) + " (cpu runtime " +
                    (v->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP)"
                     : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB)"
                                                          : "other)"));
  const char *omp = std::getenv("OMP_NUM_THREADS");
  benchmark::AddCustomContext("OMP_NUM_THREADS", omp ? omp : "unset");
  registerAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
