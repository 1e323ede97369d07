//===- CudaEmulator.h - Generated CUDA kernels run on the host --*- C++ -*-===//
///
/// \file
/// Checks the CUDA backend's kernels where there is no GPU: the generated
/// module is compiled with the host C++ compiler (CudaEmu.h force-included),
/// loaded with dlopen, and each launch runs block after block, each block
/// as kCudaBlock fibers (ucontext), one per GPU thread, that switch at
/// __syncthreads. A barrier some threads of a block skip (a divergent
/// __syncthreads, undefined on a GPU) is an error. runStep plays one
/// training step as the CUDA executor does (memory plan, launches in order,
/// outputs, then updates). What this cannot check: the driver API, NVRTC's
/// own compilation, and timing or races between warps.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaPrinter.h"
#include "runtime/Tensor.h"

#include <string>
#include <vector>

namespace nn::cudatest {

class CudaEmulator {
public:
  /// Compiles `src` (throws std::runtime_error with the compiler's output).
  explicit CudaEmulator(const CudaSource &src);
  ~CudaEmulator();
  CudaEmulator(const CudaEmulator &) = delete;
  CudaEmulator &operator=(const CudaEmulator &) = delete;

  /// Runs kernel `k` as launched for `batch` samples; `ptrs` are its
  /// pointer arguments (out, in0, ...).
  void launch(const CudaKernel &k, const std::vector<float *> &ptrs,
              long long batch);

  /// One training step of `g` (whose source this is): binds `batch`, runs
  /// every kernel, returns the outputs and updates `state` (Param and State
  /// leaves by name) as the CUDA executor does.
  TensorMap runStep(const Graph &g, TensorMap &state, const TensorMap &batch);

private:
  const CudaSource &src;
  std::string dir;
  void *lib = nullptr;
};

} // namespace nn::cudatest
