//===- CudaBench.cpp - nnc bench --backend=cuda ---------------------------===//
///
/// \file
/// The GPU half of `nnc bench`: every variant (batch size, fusion set) gets
/// its own CUDA executor, the same parameters and the same batch as the CPU
/// bench would use. Compile times are NVRTC's, cold (cache bypassed) and
/// from the cubin cache. The step is timed with CUDA events around the
/// replayed CUDA graph, variants interleaved; the kernels are timed by a
/// second executor that launches them one by one with an event after each.
/// Before it reports, one step of each variant from the same state must
/// agree with every other variant of its batch size. The peak is the fp32
/// (non-tensor-core) peak from the device's SM count and clock.
///
//===----------------------------------------------------------------------===//

#include "tools/BenchReport.h"

#include "ir/Support.h"

#ifdef NNC_HAVE_CUDA_BACKEND

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"
#include "passes/FlopCount.h"
#include "runtime/CudaExecutor.h"
#include "runtime/ParamInit.h"

#include <chrono>
#include <memory>

namespace nn {

namespace {

using Clock = std::chrono::steady_clock;

struct CudaVariant {
  BenchResult r;
  Graph graph;
  TensorMap state, batch;
  CudaTimes times, kernelTimes;
  std::unique_ptr<Executor> exec, profiled;
};

/// The outputs and updated Param/State leaves of one step from `v.state`.
TensorMap oneStep(CudaVariant &v) {
  v.exec->setState(v.state);
  TensorMap r = v.exec->run(v.batch);
  for (const auto &[name, t] : v.exec->state())
    r[name] = t;
  v.exec->setState(v.state);
  return r;
}

/// Variant (`batch`, fusion set `fuse`) of model `m`: compiled by NVRTC
/// cold and from the cache, with a timed executor and a by-kernel one.
std::unique_ptr<CudaVariant> makeVariant(const LoadedModel &m, int64_t batch,
                                         const std::string &fuse, bool tf32) {
  const Recipe &recipe = m.model.recipe;
  auto v = std::make_unique<CudaVariant>();
  v->r.batch = batch;
  v->r.fuse = fuse;
  PipelineOptions po;
  po.fusions = parseFusionList(fuse);
  v->graph = compileTo(m, Stage::Fused, po);
  v->state = initState(v->graph, recipe.seed);
  v->batch = benchBatch(v->graph, recipe.seed, batch);
  v->r.flops = graphFlops(v->graph, batch);
  CudaPrintOptions print;
  print.tf32 = tf32;
  CudaSource src = printCuda(v->graph, print);
  NvrtcOptions cold;
  cold.noCache = true;
  v->r.compileCold = compileCuda(src, cold).compileSeconds;
  compileCuda(src); // fills the cache
  Clock::time_point t0 = Clock::now();
  compileCuda(src);
  v->r.compileCached =
      std::chrono::duration<double>(Clock::now() - t0).count();
  CudaExecOptions timed;
  timed.tf32 = tf32;
  timed.times = &v->times;
  v->exec = makeCudaExecutor(v->graph, timed);
  CudaExecOptions byKernel;
  byKernel.tf32 = tf32;
  byKernel.noGraph = true;
  byKernel.times = &v->kernelTimes;
  v->profiled = makeCudaExecutor(v->graph, byKernel);
  v->profiled->setState(v->state);
  return v;
}

} // namespace

int runCudaBench(const LoadedModel &m, const std::vector<int64_t> &batches,
                 const std::vector<std::string> &fuses, int64_t repeats,
                 int64_t warmup, bool tf32, bool json) {
  std::string why = cudaBackendUnavailable();
  if (!why.empty())
    throw UserError("nnc: error: no CUDA device found (" + why + ")");
  std::vector<std::unique_ptr<CudaVariant>> variants;
  std::vector<TensorMap> results;
  for (int64_t batch : batches)
    for (const std::string &f : fuses) {
      variants.push_back(makeVariant(m, batch, f, tf32));
      results.push_back(oneStep(*variants.back()));
    }
  {
    std::vector<BenchResult> rs;
    for (const auto &v : variants)
      rs.push_back(v->r);
    checkVariantsAgree(rs, results);
  }
  // Interleaved, as on the CPU. The parameters are not reset between runs
  // (that would add an upload to each): the work does not depend on them.
  std::vector<std::vector<double>> steps(variants.size());
  std::vector<std::vector<std::vector<double>>> kernels(variants.size());
  benchRounds(variants.size(), warmup, repeats, [&](size_t i, bool timed) {
    CudaVariant &v = *variants[i];
    v.exec->run(v.batch);
    v.profiled->run(v.batch);
    if (!timed)
      return;
    steps[i].push_back(v.times.stepMs / 1e3);
    kernels[i].resize(v.kernelTimes.kernelMs.size());
    for (size_t k = 0; k < kernels[i].size(); ++k)
      kernels[i][k].push_back(v.kernelTimes.kernelMs[k] / 1e3);
  });
  std::vector<BenchResult> rs;
  for (size_t i = 0; i < variants.size(); ++i) {
    CudaVariant &v = *variants[i];
    v.r.step = summarize(steps[i]);
    v.r.arenaBytes = v.times.arenaBytes;
    for (size_t k = 0; k < kernels[i].size(); ++k) {
      KernelInfo info;
      info.name = v.kernelTimes.kernelNames[k];
      NodeId id = v.kernelTimes.kernelNodes[k];
      info.flops = nodeFlops(v.graph, id, v.r.batch);
      info.bytes = nodeBytes(v.graph, id, v.r.batch);
      info.time = summarize(kernels[i][k]);
      v.r.bytes += info.bytes;
      v.r.kernels.push_back(info);
    }
    rs.push_back(v.r);
  }
  BenchSetup setup;
  setup.model = m.model.graph.name;
  setup.backend = "cuda";
  setup.precision = tf32 ? "tf32" : "fp32";
  setup.device = variants.front()->times.device;
  setup.peakGflops = variants.front()->times.peakGflops;
  setup.peakNote = tf32 ? "TF32 tensor cores: SMs x TF32 FLOP per clock x "
                          "clock; GEMMs in TF32"
                        : "SMs x fp32 lanes x 2 x clock; no tensor cores";
  setup.timedBy = "CUDA events (step: the replayed CUDA graph with its "
                  "copies; kernels: launched one by one)";
  setup.repeats = repeats;
  setup.warmup = warmup;
  printBench(setup, rs, json);
  return 0;
}

} // namespace nn

#else // no CUDA backend in this build

namespace nn {

int runCudaBench(const LoadedModel &, const std::vector<int64_t> &,
                 const std::vector<std::string> &, int64_t, int64_t, bool,
                 bool) {
  throw UserError("nnc: error: no CUDA device found (this nnc was built "
                  "without the CUDA backend: NVRTC was not found)");
}

} // namespace nn

#endif
