//===- Launcher.cpp - What the MPI launcher tells a process ---------------===//
///
/// \file
/// launcherSize (runtime/Distributed.h), shared by the MPI build and the
/// build without it. Algorithm: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE
/// in every process it starts, MPICH's hydra and Slurm's PMI set PMI_SIZE.
///
//===----------------------------------------------------------------------===//

#include "runtime/Distributed.h"

#include <algorithm>
#include <cstdlib>

namespace nn {

int launcherSize() {
  for (const char *var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *v = std::getenv(var))
      return std::max(1, std::atoi(v));
  return 1;
}

} // namespace nn
