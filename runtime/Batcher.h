//===- Batcher.h - Mini-batches over a data set ----------------*- C++ -*-===//
///
/// \file
/// Cuts a set of rows of a Dataset into mini-batches, in a seeded order that
/// depends on (seed, epoch) alone, so a run resumed at epoch e sees exactly
/// the batches an uninterrupted run would have seen.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Dataset.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace nn {

/// One mini-batch: `size` rows of x ([size, features...]) and y.
struct Batch {
  Tensor x;
  Tensor y;
  int64_t size = 0;
};

/// Iterates mini-batches of the rows `indices` of `data`. The order of epoch
/// e is a permutation of `indices` drawn by Rng(deriveSeed(seed, e)), a
/// function of (seed, e) alone (so a resumed run at epoch e sees the same
/// batches without saved RNG state); shuffle=false keeps `indices` in order.
/// The last partial batch is used. `data` must outlive the Batcher.
class Batcher {
public:
  /// Throws UserError when `batch` < 1 or an index is out of range.
  Batcher(const Dataset &data, std::vector<int64_t> indices, int64_t batch,
          bool shuffle, uint64_t seed);

  /// ceil(indices / batch); 0 when there are no rows.
  int64_t batchesPerEpoch() const;
  /// The number of rows an epoch visits.
  int64_t rows() const { return static_cast<int64_t>(indices.size()); }
  /// The row order of epoch `epoch` (each index exactly once).
  std::vector<int64_t> epochOrder(int64_t epoch) const;
  /// Batch `i` (0-based) of epoch `epoch`; i < batchesPerEpoch(). Safe to
  /// call from several threads (the order of the last epoch is cached).
  Batch get(int64_t epoch, int64_t i) const;
  /// The data set the batches are cut from.
  const Dataset &dataset() const { return data; }
  /// Rows per full batch.
  int64_t batchSize() const { return batch; }

private:
  const Dataset &data;
  std::vector<int64_t> indices;
  int64_t batch;
  bool shuffle;
  uint64_t seed;

  mutable std::mutex cacheMutex;
  mutable int64_t cachedEpoch = -1;
  mutable std::vector<int64_t> cachedOrder;
};

/// Rows order[begin .. begin + n) of `t` (rows = first dimension), as
/// Batcher::get copies them.
Tensor gatherBatch(const Tensor &t, const std::vector<int64_t> &order,
                   int64_t begin, int64_t n);

} // namespace nn
