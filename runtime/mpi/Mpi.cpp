//===- Mpi.cpp - Distributed.h on MPI -------------------------------------===//
///
/// \file
/// The one file that includes mpi.h. Algorithm: MPI starts only under a
/// launcher of more than one process (a plain `nnc train` never touches
/// it); MPI_COMM_WORLD returns errors instead of aborting, so a collective
/// that fails because a rank died becomes a UserError with a message. The
/// all-gathers are MPI_Allgather: every rank receives every block, in rank
/// order, and adds them itself in that order (runtime/Sharding.h), so the
/// sum does not depend on the reduction order MPI_Allreduce would pick.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/Distributed.h"

// The C API only (the C++ bindings need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdlib>

#include <string>

namespace nn {

namespace {

World theWorld;
bool started = false;

void check(int rc, const char *what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw UserError("nnc: error: rank " + std::to_string(theWorld.rank) + ": " +
                  what + " failed (" + std::string(text, len) +
                  "): another rank stopped or died");
}

template <typename T>
std::vector<T> gather(const std::vector<T> &mine, MPI_Datatype type) {
  if (!started || theWorld.size == 1)
    return mine;
  std::vector<T> all(mine.size() * static_cast<size_t>(theWorld.size));
  check(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), type,
                      all.data(), static_cast<int>(mine.size()), type,
                      MPI_COMM_WORLD),
        "MPI_Allgather");
  return all;
}

} // namespace

bool haveMpi() { return true; }

World startWorld() {
  if (started || launcherSize() <= 1)
    return theWorld;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS)
    throw UserError("nnc: error: MPI_Init failed");
  started = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &theWorld.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &theWorld.size);
  return theWorld;
}

const World &world() { return theWorld; }

std::vector<float> allGather(const std::vector<float> &mine) {
  return gather(mine, MPI_FLOAT);
}

std::vector<double> allGather(const std::vector<double> &mine) {
  return gather(mine, MPI_DOUBLE);
}

std::vector<float> allToAll(const std::vector<float> &send) {
  if (!started || theWorld.size == 1)
    return send;
  NN_ASSERT(send.size() % static_cast<size_t>(theWorld.size) == 0,
            "uneven all-to-all blocks");
  int block = static_cast<int>(send.size() / theWorld.size);
  std::vector<float> recv(send.size());
  check(MPI_Alltoall(send.data(), block, MPI_FLOAT, recv.data(), block,
                     MPI_FLOAT, MPI_COMM_WORLD),
        "MPI_Alltoall");
  return recv;
}

std::string allGatherBytes(const std::string &mine) {
  std::vector<char> all =
      gather(std::vector<char>(mine.begin(), mine.end()), MPI_BYTE);
  return std::string(all.begin(), all.end());
}

void abortWorld(int code) {
  if (started)
    MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void endWorld() {
  if (!started)
    return;
  started = false;
  MPI_Finalize();
}

} // namespace nn
