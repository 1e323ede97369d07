//===- Launcher.cpp - What the MPI launcher tells a process ---------------===//
///
/// \file
/// launcherSize, launcherRank, launcherLocalRank and processCudaDevice
/// (runtime/Distributed.h), shared by the MPI build and the build without
/// it. Algorithm: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE,
/// OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_LOCAL_RANK in every process it
/// starts, MPICH's hydra PMI_SIZE, PMI_RANK and MPI_LOCALRANKID, Slurm
/// PMI_SIZE, PMI_RANK and SLURM_LOCALID; the GPU follows the local rank
/// unless NNC_CUDA_DEVICE names one.
///
//===----------------------------------------------------------------------===//

#include "runtime/Distributed.h"

#include "codegen/cuda/CudaDriver.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>

namespace nn {

namespace {

/// The first of `vars` that is set, as a number; `fallback` otherwise.
int launcherNumber(std::initializer_list<const char *> vars, int fallback) {
  for (const char *var : vars)
    if (const char *v = std::getenv(var))
      return std::max(fallback, std::atoi(v));
  return fallback;
}

} // namespace

int launcherSize() {
  return launcherNumber({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}, 1);
}

int launcherRank() {
  return launcherNumber({"OMPI_COMM_WORLD_RANK", "PMI_RANK"}, 0);
}

int launcherLocalRank() {
  return launcherNumber(
      {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}, -1);
}

int processCudaDevice(int count) {
  const char *requested = std::getenv("NNC_CUDA_DEVICE");
  return chooseCudaDevice(requested ? requested : "", launcherLocalRank(),
                          count);
}

} // namespace nn
