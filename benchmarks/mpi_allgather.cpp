//===- mpi_allgather.cpp - The reduction of data-parallel training --------===//
///
/// \file
/// Times what one data-parallel step adds (runtime/DataParallel.cpp) to
/// sum B bytes of gradients: the fixed-order reduce-scatter (an all-to-all
/// of N slices, each rank adding its slice of every rank in rank order,
/// runtime/Sharding.h) and the all-gather of the summed slices, for B from
/// 4 KB to 64 MB. Run it under
/// mpirun; rank 0 prints a CSV: bytes, median seconds, and the seconds per
/// byte that the scaling model of docs/distributed.md starts from.
///
/// Usage: mpirun -np N build/benchmarks/nnc_mpi_allgather [reps]
///
//===----------------------------------------------------------------------===//

#include "runtime/Distributed.h"
#include "runtime/Sharding.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  nn::World w = nn::startWorld();
  int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  if (w.rank == 0)
    std::printf("ranks,bytes,median_seconds,seconds_per_byte\n");
  for (size_t bytes = 4096; bytes <= (64u << 20); bytes *= 4) {
    // A multiple of N floats (N <= 64).
    std::vector<float> mine(bytes / sizeof(float) / 64 * 64 / w.size * w.size,
                            1.0f + w.rank);
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      std::vector<float> slices = nn::allToAll(mine);
      std::vector<float> part =
          nn::sumInRankOrder(slices, w.size, mine.size() / w.size);
      std::vector<float> sum = nn::allGather(part);
      times.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - t0)
                          .count());
      if (sum[0] <= 0) // keep the sum
        std::abort();
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    if (w.rank == 0)
      std::printf("%d,%zu,%.6g,%.4g\n", w.size, bytes, median,
                  median / static_cast<double>(bytes));
  }
  nn::endWorld();
  return 0;
}
