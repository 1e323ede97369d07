//===- MachinePeak.h - The CPU's measured fp32 peak ------------*- C++ -*-===//
///
/// \file
/// The fp32 FLOP/s this machine reaches with every thread of the pool
/// running independent FMAs of the widest vectors it has (AVX-512: 16
/// floats, 24 zmm accumulators per thread; else AVX2: 8 floats, 12 ymm
/// accumulators; enough to hide the latency): the denominator of every
/// "% of peak" that `nnc bench` prints. Measured once and cached next to
/// the JIT cache, keyed by the CPU model, the thread count and the width.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace nn {

struct MachinePeak {
  double gflops = 0;   ///< 0 when it cannot be measured (no AVX2/FMA)
  int threads = 1;
  int width = 8;       ///< floats per FMA: 16 (AVX-512) or 8 (AVX2)
  std::string cpu;     ///< /proc/cpuinfo's model name
  bool cached = false; ///< read from the cache rather than measured now
};

/// The peak for the pool's current thread count (cpuThreads()): from the
/// cache, or measured (best of three trials) and stored when the cache has
/// none or `remeasure` (a figure taken on a busy machine is too low).
MachinePeak machinePeak(bool remeasure = false);

} // namespace nn
