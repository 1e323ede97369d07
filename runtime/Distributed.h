//===- Distributed.h - The processes of a data-parallel run ----*- C++ -*-===//
///
/// \file
/// The world of an `mpirun -np N nnc train` run: this process's rank, how
/// many there are, and the collectives data-parallel training needs (an
/// all-gather of floats, doubles or bytes, every rank's block in rank
/// order; an all-to-all of floats). Backed by MPI in runtime/mpi/Mpi.cpp, the one file that includes
/// mpi.h; runtime/mpi/MpiOff.cpp stands in for it where nnc was built
/// without MPI, and refuses a run launched with more than one process.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nn {

struct World {
  int rank = 0;
  int size = 1;
};

/// Whether this build can train data-parallel (built with MPI).
bool haveMpi();

/// The number of processes the launcher says it started (Open MPI's
/// OMPI_COMM_WORLD_SIZE, or PMI_SIZE), 1 when not launched by one.
int launcherSize();
/// This process's rank as the launcher numbered it (OMPI_COMM_WORLD_RANK or
/// PMI_RANK), 0 when not launched by one; known before MPI starts.
int launcherRank();

/// This process's rank among the launcher's processes on its node (Open
/// MPI's OMPI_COMM_WORLD_LOCAL_RANK, MPICH's MPI_LOCALRANKID or Slurm's
/// SLURM_LOCALID), -1 when not launched by one.
int launcherLocalRank();

/// The CUDA device this process uses among `count` (>= 1): NNC_CUDA_DEVICE
/// when set, else launcherLocalRank() modulo `count`, else 0
/// (chooseCudaDevice, codegen/cuda/CudaDriver.h).
int processCudaDevice(int count);

/// Joins the world when launched with more than one process (MPI_Init,
/// errors returned rather than fatal); {0, 1} otherwise. Idempotent. Throws
/// UserError under a launcher of N > 1 processes when built without MPI.
World startWorld();
/// The world startWorld joined ({0, 1} before or without it).
const World &world();
/// Whether more than one process trains together.
inline bool distributed() { return world().size > 1; }

/// Every rank's `mine` (the same length on every rank), rank 0's first.
/// A failed collective (a rank that died) throws UserError.
std::vector<float> allGather(const std::vector<float> &mine);
std::vector<double> allGather(const std::vector<double> &mine);

/// `send` holds one block of send.size() / N values per rank; rank j gets
/// block j of every rank, rank 0's first (MPI_Alltoall). A failed
/// collective throws UserError.
std::vector<float> allToAll(const std::vector<float> &send);

/// Every rank's `mine` (bytes, the same length on every rank), rank 0's
/// first. A failed collective throws UserError.
std::string allGatherBytes(const std::string &mine);

/// Ends the whole job with `code` after this rank's error was printed
/// (MPI_Abort), so that the other ranks do not wait for it.
[[noreturn]] void abortWorld(int code);
/// Leaves the world at a normal end (MPI_Finalize); nothing without one.
void endWorld();

} // namespace nn
