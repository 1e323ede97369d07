//===- SideBySide.h - Whether two kernel calls may run at once -*- C++ -*-===//
///
/// \file
/// The buffers a kernel call writes and reads, and whether two calls of a
/// step may run at the same time (codegen/cpu/EmitSideBySide.cpp runs such
/// pairs as one job of the thread pool). Free of LLVM headers.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/MemoryPlan.h"

#include <vector>

namespace nn::cpu {

/// The nodes whose buffers a kernel call writes and reads.
struct CallFootprint {
  std::vector<NodeId> writes, reads;
};

/// Whether calls `a` and then `b` may run at the same time: neither writes a
/// buffer the other reads or writes (the same node, or arena bytes shared
/// under `plan`).
bool sideBySide(const MemoryPlan &plan, const CallFootprint &a,
                const CallFootprint &b);

} // namespace nn::cpu
