//===- CpuExecutor.h - The LLVM-compiled CPU backend -----------*- C++ -*-===//
///
/// \file
/// `--backend=cpu`: an Executor that compiles its graph with codegen/cpu and
/// runs each step as one call into native code. Only built where LLVM 19 is
/// (NNC_HAVE_CPU_BACKEND).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"
#include "runtime/Executor.h"

#include <memory>

namespace nn {

/// An executor for `g` (types known) compiled with `opts`. The graph is
/// compiled on the first run, for batches up to that run's batch size, and
/// again (for the larger size) should a later batch be larger.
std::unique_ptr<Executor> makeCpuExecutor(const Graph &g,
                                          const CpuOptions &opts);

} // namespace nn
