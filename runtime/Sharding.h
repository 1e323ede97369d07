//===- Sharding.h - Splitting a batch across ranks -------------*- C++ -*-===//
///
/// \file
/// The arithmetic of data-parallel training, apart from MPI so that it is
/// unit-tested: which rows of a batch each rank takes, and the sum of the
/// ranks' blocks in a fixed order.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace nn {

/// Rank `rank`'s rows [begin, end) of `rows` split over `ranks`: contiguous,
/// in rank order, the first rows % ranks ranks one row longer, so that the
/// shards cover every row once and differ in size by at most one.
std::pair<int64_t, int64_t> shardRange(int64_t rows, int ranks, int rank);

/// The element-wise sum of `ranks` blocks of `width` values laid out one
/// after the other (an all-gather's result), block r times `weights[r]`
/// (all 1 when empty), added in rank order in double and rounded once: the
/// same bits on every rank and every run.
std::vector<float> sumInRankOrder(const std::vector<float> &blocks, int ranks,
                                  size_t width,
                                  const std::vector<double> &weights = {});
std::vector<double> sumInRankOrder(const std::vector<double> &blocks,
                                   int ranks, size_t width,
                                   const std::vector<double> &weights = {});

} // namespace nn
