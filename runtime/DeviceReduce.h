//===- DeviceReduce.h - The gradients summed on the GPUs -------*- C++ -*-===//
///
/// \file
/// Data-parallel training with `--backend=cuda` (runtime/DataParallel.h):
/// each rank's gradients stay on its GPU and are summed there with NCCL,
/// in the same fixed order as the MPI path, when libnccl can be loaded on
/// every rank; otherwise DataParallelExecutor sums them through MPI on host
/// buffers. NNC_NCCL=0 asks for the MPI path; NNC_NCCL_LIBRARY names the
/// library to load instead of libnccl.so.2.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"

#include <memory>
#include <string>
#include <vector>

namespace nn {

class DeviceReduce {
public:
  virtual ~DeviceReduce() = default;
  /// Sums the "grad.<param>" outputs of the gradients executor's last run
  /// (zeros on a rank that ran nothing: `ran` false) over the ranks, rank
  /// r weighted by weights[r], and sets the update executor's
  /// "dp.grad.<param>" leaves to the sum. Collective: every rank calls it.
  virtual void sum(bool ran, const std::vector<double> &weights) = 0;
};

/// The NCCL sum of the gradients of `params` (outputs "grad.<param>" of
/// `grads`) from `gradExec` into `updExec`, when the world has more than
/// one rank, the backend is cuda and every rank loaded libnccl; nullptr
/// otherwise. Collective. With the cuda backend, rank 0 prints one line
/// to stderr saying which path the gradients take (gradientPathNote).
std::unique_ptr<DeviceReduce>
makeDeviceReduce(const std::string &backend, const Graph &grads,
                 const std::vector<std::string> &params, Executor &gradExec,
                 Executor &updExec);

/// "data-parallel: gradients summed with NCCL 2.28.9 on the GPUs" when
/// `why` is empty, else "data-parallel: gradients summed through MPI on
/// host buffers (<why>)".
std::string gradientPathNote(const std::string &ncclVersion,
                             const std::string &why);

/// The library NNC_NCCL and NNC_NCCL_LIBRARY ask for ("libnccl.so.2" by
/// default), or "" with `why` set when NNC_NCCL=0 turns NCCL off.
std::string requestedNcclLibrary(std::string &why);

/// Why the ranks cannot sum with NCCL ("" when they can), from their
/// blocks of `block` bytes, one after the other (an all-gather): a byte, 1
/// when that rank can, and its GPU's UUID. Two ranks on one GPU cannot
/// (NCCL needs one GPU per rank).
std::string ncclInTheWorld(const std::string &blocks, size_t block);

} // namespace nn
