//===- CudaDeviceChoice.cpp - Which GPU a process uses --------------------===//
///
/// \file
/// chooseCudaDevice (CudaDriver.h), apart from the driver so that it is
/// unit-tested and built with or without the CUDA toolkit. Algorithm: an
/// explicit request wins and must name a device of this machine; under an
/// MPI launcher, the process's rank on its node modulo the device count
/// (`mpirun -np 8` on a node of 8 GPUs gives each rank its own; with more
/// ranks than GPUs, they share them in turn); otherwise device 0.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaDriver.h"

#include "ir/Support.h"

#include <cctype>
#include <string>

namespace nn {

int chooseCudaDevice(const std::string &requested, int localRank, int count) {
  NN_ASSERT(count >= 1, "a device chosen among none");
  if (requested.empty())
    return localRank >= 0 ? localRank % count : 0;
  bool digits = requested.size() <= 9;
  for (char c : requested)
    digits = digits && std::isdigit(static_cast<unsigned char>(c));
  int device = digits ? std::stoi(requested) : -1;
  if (device < 0 || device >= count)
    throw UserError(
        "nnc: error: NNC_CUDA_DEVICE=" + requested +
        " names no CUDA device of this machine, which has " +
        std::to_string(count) +
        (count == 1 ? " device (0)"
                    : " devices (0 to " + std::to_string(count - 1) + ")"));
  return device;
}

} // namespace nn
