//===- ExecutorOptions.h - How the compiled backends run -------*- C++ -*-===//
///
/// \file
/// The options of the compiled executors, passed to makeExecutor: no
/// executor reads a global or the environment. The driver fills them once
/// from its flags (-v, --no-cache, --sync, --precision) and the NNC_CUDA_*
/// environment variables (tools/Driver.h, executorOptionsFromEnvironment).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"
#include "ir/Graph.h"

#include <cstdint>
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

/// Everything makeExecutor passes on: each backend reads its own part (the
/// interpreter has none).
struct ExecutorOptions {
  CpuOptions cpu;
  CudaExecOptions cuda;
  /// The trainer runs the steps between the moments it must act (progress,
  /// snapshots, checkpoints, the epoch's end) in one call where the backend
  /// compiles them (Executor::compiledSteps: cpu); off (the hidden flag
  /// --step-by-step): one call per step, the same bits.
  bool epochProgram = true;
};

} // namespace nn
