//===- CudaExecutor.h - The NVRTC-compiled CUDA backend --------*- C++ -*-===//
///
/// \file
/// `--backend=cuda`: an Executor that prints its graph as CUDA C++
/// (codegen/cuda), compiles it with NVRTC, keeps parameters and optimizer
/// state resident on the GPU, and runs each step as one replayed CUDA graph.
/// Only built where the CUDA toolkit was found (NNC_HAVE_CUDA_BACKEND); it
/// needs a device only when an executor is made.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Executor.h"

#include <memory>
#include <string>
#include <vector>

namespace nn {

/// What a run measured on the GPU (for nnc bench): see CudaExecOptions.
struct CudaTimes {
  std::string device;     ///< "NVIDIA H100 80GB HBM3, sm_90, 132 SMs"
  double peakGflops = 0;  ///< fp32 without tensor cores, or TF32's
  int64_t arenaBytes = 0; ///< the memory plan's arena
  /// The last step on the stream (batch copies, kernels, update and output
  /// copies), from CUDA events.
  double stepMs = 0;
  /// Each kernel of the last step, in launch order (`noGraph` runs only).
  std::vector<double> kernelMs;
  std::vector<std::string> kernelNames; ///< the variants run ("k4_..._big")
  std::vector<NodeId> kernelNodes;
};

struct CudaExecOptions {
  /// Launch kernel by kernel and wait after each, so that a failing kernel
  /// is named (no CUDA graph).
  bool sync = false;
  /// Launch kernel by kernel without capturing a CUDA graph (for timing
  /// and debugging; implied by `sync`).
  bool noGraph = false;
  /// Print what was compiled or loaded from the cubin cache, to stderr.
  bool verbose = false;
  /// Bypass the cubin cache.
  bool noCache = false;
  /// GEMMs on tensor cores in TF32 (--precision=tf32; sm_80 and newer).
  bool tf32 = false;
  /// GEMM results of at least this many elements run on 128 x 128 tiles;
  /// 0: the printer's default, kCudaBigTileMin (NNC_CUDA_BIG_TILES_FROM=N;
  /// tests set 1 to run every GEMM on big tiles).
  int64_t bigTileMin = 0;
  /// Split long K among blocks for GEMMs of few tiles (NNC_CUDA_SPLIT_K=0
  /// turns it off).
  bool splitK = true;
  /// Blocks per multiprocessor the big-tile GEMMs are compiled for; 0: the
  /// printer's default, 1 (NNC_CUDA_BIG_MIN_BLOCKS=N).
  int bigMinBlocks = 0;
  /// When set, every run records its times here (events around the step,
  /// and around each kernel when launched one by one).
  CudaTimes *times = nullptr;
};

/// The options of every executor that makeExecutor("cuda", ...) creates; the
/// driver sets them from its flags before training.
CudaExecOptions &cudaExecutorOptions();

/// Why `--backend=cuda` cannot run here ("" when it can): no driver, no
/// device.
std::string cudaBackendUnavailable();

/// An executor for `g` (types known) on CUDA device 0. Throws UserError
/// "nnc: error: no CUDA device found (...)" when there is none. The graph
/// is compiled (or loaded from the cubin cache) on the first run; device
/// memory follows passes/MemoryPlan, planned for that run's batch size (and
/// again for a larger batch).
std::unique_ptr<Executor> makeCudaExecutor(const Graph &g,
                                           const CudaExecOptions &opts);

} // namespace nn
