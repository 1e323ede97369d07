//===- Nccl.h - NCCL, loaded at run time -----------------------*- C++ -*-===//
///
/// \file
/// The NVIDIA collective communication library for data-parallel training
/// on GPUs (runtime/DeviceReduce.h), opened with dlopen as libcuda is, so
/// that nnc builds without nccl.h and runs where libnccl is absent (the
/// gradients then go through MPI on host buffers). Free of NCCL and CUDA
/// types: the few NCCL declarations nnc needs stay inside Nccl.cpp.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaDriver.h"

#include <cstddef>
#include <memory>
#include <string>

namespace nn {

struct NcclApi;

/// libnccl, or why it cannot be used.
struct NcclLibrary {
  std::string path;    ///< what was opened: "libnccl.so.2" or a path
  std::string version; ///< "2.28.9"; "" when not loaded
  std::string error;   ///< why not ("" when loaded)
  std::shared_ptr<const NcclApi> api;
};

/// Opens `path` (a file name the dynamic loader searches for, or a path)
/// and looks up every function nnc calls; asks the library its version
/// (which needs no GPU).
NcclLibrary loadNccl(const std::string &path = "libnccl.so.2");

/// "2.28.9" from ncclGetVersion's code (2.28.9 is 22809; before 2.9,
/// 2.8.4 was 2804).
std::string ncclVersionText(int code);

/// One NCCL communicator: this process's GPU among `ranks` processes'.
/// Every call is checked: a failure throws UserError naming the call and
/// NCCL's message.
class NcclComm {
public:
  /// The size of a unique id (ncclUniqueId).
  static constexpr size_t kIdBytes = 128;
  /// A new unique id; one rank makes it, every rank joins with it.
  static std::string newId(const NcclLibrary &lib);
  /// Joins the communicator of `id` as `rank` of `ranks`, on the device
  /// whose context is current (CudaContext::open makes it so). Collective:
  /// every rank calls it.
  NcclComm(const NcclLibrary &lib, const std::string &id, int ranks, int rank);
  ~NcclComm();
  NcclComm(const NcclComm &) = delete;
  NcclComm &operator=(const NcclComm &) = delete;

  /// An all-to-all of floats, enqueued on `stream`: `count` floats at
  /// send + r * count go to rank r, and recv + r * count receives rank r's
  /// (grouped ncclSend and ncclRecv).
  void allToAll(CudaDevicePtr send, CudaDevicePtr recv, size_t count,
                void *stream);
  /// Every rank's `count` floats at `send`, in rank order at `recv`.
  void allGather(CudaDevicePtr send, CudaDevicePtr recv, size_t count,
                 void *stream);

private:
  std::shared_ptr<const NcclApi> api;
  void *comm = nullptr;
  int ranks = 0;
};

} // namespace nn
