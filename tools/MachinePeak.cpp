//===- MachinePeak.cpp - The CPU's measured fp32 peak ---------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "tools/MachinePeak.h"

#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/ThreadPool.h"
#include "ir/Support.h"
#include "runtime/AtomicFile.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nn {

namespace {

constexpr int64_t kIters = 16 << 20; ///< FMA rows per thread per trial

#if defined(__x86_64__)
/// 12 independent accumulators of 8 floats, kIters rows of 12 FMAs.
__attribute__((target("avx2,fma"))) float fmaLoop(float seed) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i)
    a[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  // Unrolled, so that the accumulators stay in ymm registers.
  for (int64_t n = 0; n < kIters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      a[i] = _mm256_fmadd_ps(a[i], x, y);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_ps(s, a[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

/// 24 independent accumulators of 16 floats, kIters / 2 rows of 24 FMAs
/// (the same count of FMA instructions as fmaLoop, twice the flops).
__attribute__((target("avx512f"))) float fmaLoop16(float seed) {
  __m512 a[24];
  for (int i = 0; i < 24; ++i)
    a[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < kIters / 2; ++n) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
      a[i] = _mm512_fmadd_ps(a[i], x, y);
  }
  __m512 s = a[0];
  for (int i = 1; i < 24; ++i)
    s = _mm512_add_ps(s, a[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0];
}

void fmaTask(void *ctx, int64_t part, int64_t) {
  static_cast<volatile float *>(ctx)[part] = fmaLoop(static_cast<float>(part));
}

void fmaTask16(void *ctx, int64_t part, int64_t) {
  static_cast<volatile float *>(ctx)[part] =
      fmaLoop16(static_cast<float>(part));
}
#endif

/// The widest FMA this CPU has: 16 (avx512f), 8 (avx2 and fma) or 0.
int fmaWidth() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f"))
    return 16;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return 8;
#endif
  return 0;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown cpu";
}

double measure(int threads, int width) {
#if defined(__x86_64__)
  if (width == 0)
    return 0;
  std::vector<float> sink(static_cast<size_t>(threads));
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    auto t0 = std::chrono::steady_clock::now();
    nnc_parallel_for(width == 16 ? fmaTask16 : fmaTask, sink.data(), threads,
                     INT64_MAX);
    double s = std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - t0)
                   .count();
    // 12 x kIters FMAs per thread either way.
    double flops = 2.0 * width * 12 * static_cast<double>(kIters) * threads;
    best = std::max(best, flops / s / 1e9);
  }
  return best;
#else
  (void)threads, (void)width;
  return 0;
#endif
}

} // namespace

MachinePeak machinePeak(bool remeasure) {
  MachinePeak p;
  p.threads = cpuThreads();
  p.cpu = cpuModel();
  p.width = fmaWidth();
  // The width in the key: a figure measured with 8-wide FMAs (before the
  // 16-wide probe) is never reused for an AVX-512 host.
  std::string key = p.cpu + "; " + std::to_string(p.threads) + " threads; " +
                    std::to_string(p.width) + "-wide fma";
  std::string dir = jitCacheDir();
  std::string path = dir.empty() ? "" : dir + "/peak.txt";
  std::vector<std::string> others; // the cache's lines for other keys
  if (!path.empty()) {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      size_t tab = line.rfind('\t');
      if (tab != std::string::npos && line.substr(0, tab) == key) {
        p.gflops = std::atof(line.c_str() + tab + 1);
        p.cached = p.gflops > 0 && !remeasure;
      } else if (!line.empty()) {
        others.push_back(line);
      }
    }
  }
  if (p.cached)
    return p;
  p.gflops = measure(p.threads, p.width);
  if (!path.empty() && p.gflops > 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ostringstream out;
    for (const std::string &l : others)
      out << l << '\n';
    out << key << '\t' << p.gflops << '\n';
    try {
      writeFileAtomic(path, out.str());
    } catch (const UserError &) {
      // A cache: not written, measured again next time.
    }
  }
  return p;
}

} // namespace nn

#endif // NNC_HAVE_CPU_BACKEND
