//===- Launcher.cpp - What the MPI launcher tells a process ---------------===//
///
/// \file
/// launcherSize, launcherLocalRank and processCudaDevice
/// (runtime/Distributed.h), shared by the MPI build and the build without
/// it. Algorithm: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE and
/// OMPI_COMM_WORLD_LOCAL_RANK in every process it starts, MPICH's hydra
/// PMI_SIZE and MPI_LOCALRANKID, Slurm PMI_SIZE and SLURM_LOCALID; the GPU
/// follows the local rank unless NNC_CUDA_DEVICE names one.
///
//===----------------------------------------------------------------------===//

#include "runtime/Distributed.h"

#include "codegen/cuda/CudaDriver.h"

#include <algorithm>
#include <cstdlib>

namespace nn {

int launcherSize() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *v = std::getenv(var))
      return std::max(1, std::atoi(v));
  return 1;
}

int launcherLocalRank() {
  for (const char *var :
       {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char *v = std::getenv(var))
      return std::max(0, std::atoi(v));
  return -1;
}

int processCudaDevice(int count) {
  const char *requested = std::getenv("NNC_CUDA_DEVICE");
  return chooseCudaDevice(requested ? requested : "", launcherLocalRank(),
                          count);
}

} // namespace nn
