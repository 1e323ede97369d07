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
#include "runtime/ExecutorOptions.h"

#include <memory>
#include <string>

namespace nn {

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
