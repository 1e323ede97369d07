//===- GemmTarget.h - The GEMM micro-kernel and blocks for a target -*- C++ -*-===//
///
/// \file
/// Which register tile the generated matrix products use and how they block
/// the operands for the caches (codegen/cpu/EmitGemm.cpp), chosen at JIT
/// time from the TargetMachine's features: AVX-512 (avx512f: 32 zmm
/// registers, <16 x float>) gets an 8 x 32 tile, anything else the AVX2
/// 6 x 16 tile (<8 x float>, 16 ymm registers). 8 x 32 was measured
/// against 6 x 32, 10 x 32, 12 x 32, 14 x 32, 8 x 48 and 6 x 64 on an AMD
/// Zen 4 host (which runs a zmm FMA as two 256-bit halves): the fastest on
/// the MLP shapes and on 1024^3 there (14 x 32 needs 14 row pointers of a,
/// more than the general registers, and spills them). Block sizes come from the
/// host's L1d/L2/L3 sizes (sysfs) when the code is for the host, else from
/// fixed defaults (a pinned --cpu: golden tests see the same text on every
/// host). The choice is recorded in the module (named metadata `nnc.gemm`,
/// read back by the emitters and shown by `nnc emit --stage=llvm`) and is
/// part of the JIT cache's key. Free of LLVM headers.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"

#include <cstdint>
#include <string>

namespace llvm {
class Module;
}

namespace nn::cpu {

/// The host's data cache sizes in bytes; 0 where unknown.
struct CacheSizes {
  int64_t l1d = 0, l2 = 0, l3 = 0;
};

/// Reads /sys/devices/system/cpu/cpu0/cache/index*/ (level, type, size),
/// else sysconf; 0 for what neither says.
CacheSizes hostCacheSizes();

struct GemmTarget {
  int64_t lanes = 8; ///< floats per vector register (8: ymm, 16: zmm)
  int64_t mr = 6;    ///< rows of the register tile
  int64_t nr = 16;   ///< columns of the register tile (a multiple of lanes)
  int64_t kc = 256;  ///< depth of a block (b's kc x nr micro-panel in L1)
  int64_t mc = 96;   ///< rows of a's packed block (a multiple of mr; L2)
  int64_t nc = 256;  ///< columns of b's packed block (a multiple of nr)
  bool fromCaches = false; ///< kc, mc, nc from the host's caches
  /// "avx512 8x32 kc 128 mc 112 nc 512 (defaults)", or "... (from the
  /// host's caches)".
  std::string describe() const;
  /// The micro-kernel's function name, "nnc_gemm_8x32".
  std::string kernelName() const;
  /// The tile for a product of `n` columns (n < 0: not known when the code
  /// is generated): a 16-wide AVX-512 tile keeps one vector per row, 8 x 16,
  /// where n <= 16 (a 10-column product would waste 22 of 32 columns).
  /// The same bits either way: the tile never changes a sum's order.
  GemmTarget forColumns(int64_t n) const;
};

/// The tile for a target with (`avx512`) or without AVX-512, and block sizes
/// from `caches` (the defaults when null or a size is 0): kc so that b's
/// micro-panel takes half of L1d, mc so that a's block takes half of L2,
/// nc so that b's block takes a quarter of L3, each rounded down to its
/// unit and clamped (the pack buffers live on the kernel's stack: at most
/// 256 KiB for a's block and 512 KiB for b's).
GemmTarget gemmTargetFor(bool avx512, const CacheSizes *caches);

/// The target for code compiled with `opts`: AVX-512 when its CPU (the
/// host's, or opts.cpu) has avx512f; the host's caches when opts.cpu is
/// empty or "host", else the defaults (pin "x86-64-v3" to get the AVX2
/// tile on an AVX-512 host, as the benchmarks do side by side).
GemmTarget gemmTargetFor(const CpuOptions &opts);

/// Records `t` in module `m` (named metadata nnc.gemm) ...
void setModuleGemmTarget(llvm::Module &m, const GemmTarget &t);
/// ... and reads it back (the AVX2 defaults when `m` has none).
GemmTarget moduleGemmTarget(const llvm::Module &m);

} // namespace nn::cpu
