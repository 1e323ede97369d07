//===- PoolRaceTest.cpp - The thread pool under ThreadSanitizer -----------===//
///
/// \file
/// The CPU backend's thread pool runs many short jobs back to back, and a
/// worker may still be leaving one job while the caller starts the next.
/// This binary is built with -fsanitize=thread (only it and ThreadPool.cpp):
/// it runs 20,000 jobs per thread count whose part counts go up and down,
/// checks that every part ran exactly once, and writes a plain (non-atomic)
/// array from the tasks, so any missing happens-before edge between a part
/// and the caller is a ThreadSanitizer report (exit code 66).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

using namespace nn;

namespace {

std::atomic<int> hits[64];
int written[64]; ///< plain ints: the caller reads what the parts wrote

void runPart(void *, int64_t part, int64_t) {
  hits[part].fetch_add(1, std::memory_order_relaxed);
  written[part] += 1;
}

} // namespace

int main() {
  int failures = 0;
  for (int threads : {2, 3, 4}) {
    setCpuThreads(threads);
    for (int job = 0; job < 20000; ++job) {
      for (int p = 0; p < 64; ++p) {
        hits[p].store(0, std::memory_order_relaxed);
        written[p] = 0;
      }
      int64_t maxParts = job % 2 ? 1 + job % 5 : 1 + job % 19;
      nnc_parallel_for(runPart, nullptr, maxParts, kMinParallelWork);
      int64_t parts = std::min<int64_t>(maxParts, kPartsPerThread * threads);
      for (int64_t p = 0; p < 64; ++p) {
        int want = p < parts ? 1 : 0;
        if (hits[p].load() != want || written[p] != want) {
          if (++failures <= 10)
            std::fprintf(stderr,
                         "part %lld of job %d (%d threads) ran %d times\n",
                         static_cast<long long>(p), job, threads,
                         hits[p].load());
        }
      }
    }
  }
  if (failures)
    std::fprintf(stderr, "%d wrong part counts\n", failures);
  return failures ? 1 : 0;
}
