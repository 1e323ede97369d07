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

#include "codegen/cuda/CudaDriver.h"
#include "runtime/Executor.h"
#include "runtime/ExecutorOptions.h"

#include <memory>
#include <string>

namespace nn {

/// Why `--backend=cuda` cannot run here ("" when it can): no driver, no
/// device.
std::string cudaBackendUnavailable();

/// An executor for `g` (types known) on this process's CUDA device
/// (processCudaDevice, runtime/Distributed.h: device 0 outside a launcher,
/// else one per rank of the node, or NNC_CUDA_DEVICE). Throws UserError
/// "nnc: error: no CUDA device found (...)" when there is none. The graph
/// is compiled (or loaded from the cubin cache) on the first run; device
/// memory follows passes/MemoryPlan, planned for that run's batch size (and
/// again for a larger batch).
std::unique_ptr<Executor> makeCudaExecutor(const Graph &g,
                                           const CudaExecOptions &opts);

/// A CUDA executor's device buffers, for the gradients' sum on the GPUs
/// (runtime/DeviceReduce.h): outputs and state leaves move device to
/// device, without a trip through the host.
class CudaBuffers {
public:
  virtual ~CudaBuffers() = default;
  /// The device the executor runs on.
  virtual int deviceOrdinal() const = 0;
  /// Copies output `name` of the last run() to `dst` (device memory of the
  /// same device) and waits for the copy.
  virtual void copyOutput(const std::string &name, CudaDevicePtr dst) = 0;
  /// Sets State or Param leaf `name` from `src` (device memory of the same
  /// device) and waits; the rest of the held state is uploaded first where
  /// the device did not have it. state() then reads the device's values.
  virtual void setLeaf(const std::string &name, CudaDevicePtr src) = 0;
};

/// `e`'s device buffers when it is a CUDA executor, else nullptr.
CudaBuffers *cudaBuffers(Executor &e);

} // namespace nn
