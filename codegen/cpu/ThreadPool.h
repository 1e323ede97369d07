//===- ThreadPool.h - The threads generated code runs on -------*- C++ -*-===//
///
/// \file
/// The runtime side of the CPU backend's parallel loops. A kernel that can
/// be split (a matrix product, by column panels) is called through
///   nnc_parallel_for(task, ctx, maxParts, work)
/// which runs task(ctx, part, parts) for part = 0 .. parts-1 on the pool's
/// threads, parts <= maxParts (kPartsPerThread per thread, claimed one at a
/// time), and returns when all are done. The kernels
/// compute each output element in one task, in an order that does not depend
/// on `parts`, so results are bit-identical for every thread count.
/// Small jobs (`work`, in multiply-adds, under a threshold) run on the
/// caller alone. Free of LLVM headers.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace nn {

/// A slice of a kernel: task(ctx, part, parts).
using ParallelTask = void (*)(void *ctx, int64_t part, int64_t parts);

/// The type of nnc_parallel_for (and of a module's kParallelForSymbol).
using ParallelForFn = void (*)(ParallelTask task, void *ctx, int64_t maxParts,
                               int64_t work);

/// The function the generated code calls (its address is stored into each
/// loaded module).
extern "C" void nnc_parallel_for(ParallelTask task, void *ctx,
                                 int64_t maxParts, int64_t work);

/// Threads the pool uses (the caller included): NNC_THREADS when set, else
/// the hardware's thread count.
int cpuThreads();
/// Throws UserError when NNC_THREADS is set to anything but a thread count
/// from 1 to 256 (as --threads is checked); the driver calls it first.
void checkThreadsEnvironment();
/// Sets the thread count (>= 1); takes effect at the next parallel loop.
void setCpuThreads(int threads);

/// A job is split into up to this many parts per thread (at most maxParts).
constexpr int kPartsPerThread = 4;

/// Multiply-adds below which a loop runs on the caller alone.
constexpr int64_t kMinParallelWork = 1 << 16;

} // namespace nn
