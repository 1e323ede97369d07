//===- Launcher.cpp - What the MPI launcher tells a process ---------------===//
///
/// \file
/// launcherSize and launcherRank (runtime/Distributed.h), shared by the MPI
/// build and the build without it. Algorithm: Open MPI's mpirun sets
/// OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_RANK in every process it starts,
/// MPICH's hydra and Slurm's PMI set PMI_SIZE and PMI_RANK.
///
//===----------------------------------------------------------------------===//

#include "runtime/Distributed.h"

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

} // namespace nn
