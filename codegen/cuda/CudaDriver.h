//===- CudaDriver.h - The CUDA driver API, loaded at run time --*- C++ -*-===//
///
/// \file
/// A CUDA context on one device through libcuda.so.1, opened with dlopen so
/// that nnc starts and runs on machines without a GPU or driver. Every call
/// is checked: a failure throws, naming the call (and the kernel, for
/// launches). Free of CUDA types: cuda.h stays inside CudaDriver.cpp.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace nn {

/// Why no CUDA device can be used here ("" when one can): libcuda.so.1 is
/// missing, cuInit fails, or the driver sees no device. Cached after the
/// first call.
std::string cudaUnavailableReason();

/// The architecture to compile for: "sm_<major><minor>" of device 0 when
/// there is one, else "sm_90" (H100, H200).
std::string cudaDefaultArch();

/// The number of CUDA devices the driver sees (0 without a usable driver).
int cudaDeviceCount();

/// The device a process uses among `count` (>= 1): `requested` (the text of
/// NNC_CUDA_DEVICE, "" when unset) when given, else the process's rank on
/// its node modulo `count` under an MPI launcher (`localRank` >= 0: one GPU
/// per rank, more ranks than GPUs sharing them in turn), else 0. Throws
/// UserError for a request that is not a device of this machine.
int chooseCudaDevice(const std::string &requested, int localRank, int count);

/// A device address.
using CudaDevicePtr = uint64_t;

/// A context on one device (its primary context, shared by every
/// CudaContext of that device, so that their device addresses are valid in
/// each other) with one stream; all copies and launches are asynchronous on
/// that stream until synchronize().
class CudaContext {
public:
  /// Opens device `ordinal`. Throws UserError "nnc: error: no CUDA device
  /// found (<reason>)" when there is none.
  static std::unique_ptr<CudaContext> open(int ordinal = 0);
  ~CudaContext();
  CudaContext(const CudaContext &) = delete;
  CudaContext &operator=(const CudaContext &) = delete;

  /// "NVIDIA H100 80GB HBM3".
  const std::string &deviceName() const { return name; }
  /// "sm_90".
  const std::string &arch() const { return archName; }
  int multiprocessors() const { return sms; }
  /// The device's 16-byte UUID (the same GPU in every process that sees it).
  const std::string &deviceUuid() const { return uuid; }
  /// The device's ordinal (cuDeviceGet's).
  int ordinal() const { return device; }
  /// The stream (a CUstream, which is a cudaStream_t), for libraries that
  /// enqueue their own work on it (NCCL).
  void *rawStream() const { return stream; }
  /// The fp32 peak without tensor cores, in GFLOP/s: multiprocessors x
  /// fp32 lanes per multiprocessor (by architecture) x 2 x the peak clock
  /// (66,900 on an H100 SXM: 132 x 128 x 2 x 1.98 GHz).
  double fp32PeakGflops() const;
  /// The dense TF32 tensor-core peak in GFLOP/s: multiprocessors x TF32
  /// FLOP per clock per multiprocessor (1024 on the A100, 256 on GA10x and
  /// Ada, 2048 on Hopper and later) x the peak clock.
  double tf32PeakGflops() const;

  /// Device memory, zero-filled. Throws UserError when the device is out of
  /// memory (naming `what` and the size).
  CudaDevicePtr alloc(size_t bytes, const std::string &what);
  void free(CudaDevicePtr p);
  /// Page-locked host memory (for asynchronous copies).
  void *allocHost(size_t bytes);
  void freeHost(void *p);

  void copyToDevice(CudaDevicePtr dst, const void *src, size_t bytes);
  void copyToHost(void *dst, CudaDevicePtr src, size_t bytes);
  void copyOnDevice(CudaDevicePtr dst, CudaDevicePtr src, size_t bytes);
  /// Sets `count` 32-bit words at `dst` to `word`.
  void fill32(CudaDevicePtr dst, uint32_t word, size_t count);

  /// Loads a cubin; returns the module.
  void *loadModule(const std::string &cubin);
  void unloadModule(void *module);
  /// The kernel `name` of `module`.
  void *kernel(void *module, const std::string &name);
  /// Launches `fn` (a 1-D grid) with `args` (cuLaunchKernel's kernelParams).
  /// `name` names the kernel in errors.
  void launch(void *fn, unsigned grid, unsigned block, void **args,
              const std::string &name);

  /// Waits for the stream; an asynchronous error is reported as happening
  /// during `what` (e.g. the kernel just launched, in --sync mode).
  void synchronize(const std::string &what);

  /// Records the stream's work from here to endCapture() as a CUDA graph
  /// (nothing runs while capturing).
  void beginCapture();
  /// The captured work, instantiated: replay it with launchGraph.
  void *endCapture();
  void launchGraph(void *exec);
  void destroyGraph(void *exec);

  /// Events for timing on the stream.
  void *recordEvent();
  /// Milliseconds between two recorded events (after synchronize()).
  float elapsedMs(void *start, void *end);
  void destroyEvent(void *event);

private:
  CudaContext() = default;
  std::string name, archName, uuid;
  int sms = 0;
  int clockKHz = 0;
  int major = 0, minor = 0;
  int device = 0;
  void *ctx = nullptr;
  void *stream = nullptr;
};

} // namespace nn
