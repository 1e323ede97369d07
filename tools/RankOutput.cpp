//===- RankOutput.cpp - One error message for a data-parallel job ---------===//
///
/// \file
/// Algorithm: std::cerr's buffer is swapped for a string buffer; on release
/// the original buffer comes back and receives the text. The wait after an
/// error (5 s) is far longer than rank 0 and mpirun need, on a loaded
/// machine, to end the job when rank 0 failed on the same input: mpirun's
/// SIGTERM (default action: the training's handlers are gone by then) ends
/// the waiting rank before it prints.
///
//===----------------------------------------------------------------------===//

#include "tools/RankOutput.h"

#include "runtime/Distributed.h"

#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

namespace nn {

namespace {

std::ostringstream held;
std::streambuf *original = nullptr;

} // namespace

void holdRankOutput() {
  if (!original)
    original = std::cerr.rdbuf(held.rdbuf());
}

void releaseRankOutput(bool failed) {
  if (!original)
    return;
  if (failed)
    std::this_thread::sleep_for(std::chrono::seconds(5));
  std::cerr.rdbuf(original);
  original = nullptr;
  std::cerr << held.str();
  if (failed)
    std::cerr << "nnc: note: on rank " << launcherRank() << " of "
              << launcherSize() << "\n";
  std::cerr.flush();
}

} // namespace nn
