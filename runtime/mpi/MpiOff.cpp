//===- MpiOff.cpp - Distributed.h without MPI -----------------------------===//
///
/// \file
/// Stands in for runtime/mpi/Mpi.cpp in a build without MPI: a world of
/// one. Algorithm: a process launched by mpirun with N > 1 (the launcher's
/// environment says so) stops with a message instead of training N copies
/// of the same model side by side.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/Distributed.h"

#include <cstdlib>
#include <string>

namespace nn {

namespace {
World theWorld;
} // namespace

bool haveMpi() { return false; }

World startWorld() {
  if (launcherSize() > 1)
    throw UserError("nnc: error: launched as one of " +
                    std::to_string(launcherSize()) +
                    " processes, but this nnc was built without MPI\n"
                    "nnc: help: install libopenmpi-dev (make deps) and "
                    "rebuild nnc, or run it without mpirun");
  return theWorld;
}

const World &world() { return theWorld; }

std::vector<float> allGather(const std::vector<float> &mine) { return mine; }
std::vector<double> allGather(const std::vector<double> &mine) { return mine; }
std::vector<float> allToAll(const std::vector<float> &send) { return send; }
std::string allGatherBytes(const std::string &mine) { return mine; }

void abortWorld(int code) { std::exit(code); }

void endWorld() {}

} // namespace nn
