//===- MachinePeak.h - The CPU's measured fp32 peak ------------*- C++ -*-===//
///
/// \file
/// The fp32 FLOP/s this machine reaches with every thread of the pool
/// running independent AVX2 FMAs (12 accumulators per thread, so latency is
/// hidden): the denominator of every "% of peak" that `nnc bench` prints.
/// Measured once and cached next to the JIT cache, keyed by the CPU model
/// and the thread count.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace nn {

struct MachinePeak {
  double gflops = 0;   ///< 0 when it cannot be measured (no AVX2/FMA)
  int threads = 1;
  std::string cpu;     ///< /proc/cpuinfo's model name
  bool cached = false; ///< read from the cache rather than measured now
};

/// The peak for the pool's current thread count (cpuThreads()): from the
/// cache, or measured (best of three trials) and stored when the cache has
/// none or `remeasure` (a figure taken on a busy machine is too low).
MachinePeak machinePeak(bool remeasure = false);

} // namespace nn
