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
/// Every collective is started non-blocking and waited for with a deadline
/// (NNC_MPI_TIMEOUT seconds, default 300): a rank that hangs (stopped, or
/// stuck) makes the others end the job with a message rather than wait
/// forever. The wait spins for a millisecond (a step's reduction is often
/// shorter), then tests every 100 microseconds, leaving the core to the
/// other ranks.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/Distributed.h"

#include <fmt/format.h>

// The C API only (the C++ bindings need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace nn {

namespace {

World theWorld;
bool started = false;
double timeoutSeconds = 300;

/// NNC_MPI_TIMEOUT: seconds a collective may wait for the other ranks.
double timeoutFromEnv() {
  const char *v = std::getenv("NNC_MPI_TIMEOUT");
  if (!v)
    return 300;
  char *end = nullptr;
  double s = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(s > 0))
    throw UserError(std::string("nnc: error: NNC_MPI_TIMEOUT='") + v +
                    "' is not a positive number of seconds");
  return s;
}

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

/// Waits for `req` (a collective started by this rank), at most
/// timeoutSeconds.
void wait(MPI_Request &req, const char *what) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point t0 = Clock::now();
  auto spin = t0 + std::chrono::milliseconds(1);
  auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(timeoutSeconds));
  for (;;) {
    int done = 0;
    check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), what);
    if (done)
      return;
    Clock::time_point now = Clock::now();
    if (now > deadline)
      throw UserError(fmt::format(
          "nnc: error: rank {}: {} had no answer from the other ranks for "
          "{:g} s: a rank hung or was stopped (NNC_MPI_TIMEOUT sets the "
          "limit)",
          theWorld.rank, what, timeoutSeconds));
    if (now > spin)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

template <typename T>
std::vector<T> gather(const std::vector<T> &mine, MPI_Datatype type) {
  if (!started || theWorld.size == 1)
    return mine;
  std::vector<T> all(mine.size() * static_cast<size_t>(theWorld.size));
  MPI_Request req;
  check(MPI_Iallgather(mine.data(), static_cast<int>(mine.size()), type,
                       all.data(), static_cast<int>(mine.size()), type,
                       MPI_COMM_WORLD, &req),
        "MPI_Allgather");
  wait(req, "MPI_Allgather");
  return all;
}

} // namespace

bool haveMpi() { return true; }

World startWorld() {
  if (started || launcherSize() <= 1)
    return theWorld;
  timeoutSeconds = timeoutFromEnv();
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
  MPI_Request req;
  check(MPI_Ialltoall(send.data(), block, MPI_FLOAT, recv.data(), block,
                      MPI_FLOAT, MPI_COMM_WORLD, &req),
        "MPI_Alltoall");
  wait(req, "MPI_Alltoall");
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
