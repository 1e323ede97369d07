//===- Sharding.cpp - Splitting a batch across ranks ----------------------===//
///
/// \file
/// Algorithm: rank r of N takes rows [r*q + min(r, m), (r+1)*q + min(r+1, m))
/// with q = rows / N and m = rows % N. The sums run rank 0 first, one block
/// after the other, in double: no reduction tree whose shape depends on the
/// MPI library or the network.
///
//===----------------------------------------------------------------------===//

#include "runtime/Sharding.h"

#include "ir/Support.h"

#include <algorithm>

namespace nn {

std::pair<int64_t, int64_t> shardRange(int64_t rows, int ranks, int rank) {
  NN_ASSERT(ranks >= 1 && rank >= 0 && rank < ranks && rows >= 0,
            "bad shard");
  int64_t q = rows / ranks, m = rows % ranks;
  int64_t begin = rank * q + std::min<int64_t>(rank, m);
  int64_t end = (rank + 1) * q + std::min<int64_t>(rank + 1, m);
  return {begin, end};
}

namespace {

template <typename T>
std::vector<T> sumBlocks(const std::vector<T> &blocks, int ranks,
                         size_t width, const std::vector<double> &weights) {
  NN_ASSERT(ranks >= 1 && blocks.size() == width * static_cast<size_t>(ranks),
            "blocks do not match the ranks");
  NN_ASSERT(weights.empty() || weights.size() == static_cast<size_t>(ranks),
            "one weight per rank");
  std::vector<T> out(width);
  for (size_t i = 0; i < width; ++i) {
    double s = 0;
    for (int r = 0; r < ranks; ++r)
      s += (weights.empty() ? 1.0 : weights[static_cast<size_t>(r)]) *
           static_cast<double>(blocks[static_cast<size_t>(r) * width + i]);
    out[i] = static_cast<T>(s);
  }
  return out;
}

} // namespace

std::vector<float> sumInRankOrder(const std::vector<float> &blocks, int ranks,
                                  size_t width,
                                  const std::vector<double> &weights) {
  return sumBlocks(blocks, ranks, width, weights);
}

std::vector<double> sumInRankOrder(const std::vector<double> &blocks,
                                   int ranks, size_t width,
                                   const std::vector<double> &weights) {
  return sumBlocks(blocks, ranks, width, weights);
}

} // namespace nn
