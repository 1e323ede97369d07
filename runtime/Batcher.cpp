//===- Batcher.cpp - Mini-batches over a data set -------------------------===//
///
/// \file
/// An epoch's order is recomputed from (seed, epoch) when asked for, and the
/// last one is cached, so iterating an epoch costs one shuffle.
///
//===----------------------------------------------------------------------===//
#include "runtime/Batcher.h"

#include "ir/Support.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cstring>

namespace nn {

Batcher::Batcher(const Dataset &data, std::vector<int64_t> indices,
                 int64_t batch, bool shuffle, uint64_t seed)
    : data(data), indices(std::move(indices)), batch(batch), shuffle(shuffle),
      seed(seed) {
  if (batch < 1)
    throw UserError("error: batch size must be at least 1, got " +
                    std::to_string(batch));
  int64_t n = data.size();
  if (data.y.shape.empty() || data.y.shape[0] != n)
    throw UserError(data.source + ": error: " + std::to_string(n) +
                    " samples but " +
                    (data.y.shape.empty() ? std::string("no")
                                          : std::to_string(data.y.shape[0])) +
                    " labels");
  for (int64_t i : this->indices)
    if (i < 0 || i >= n)
      throw UserError(data.source + ": error: sample index " +
                      std::to_string(i) + " out of range [0, " +
                      std::to_string(n) + ")");
}

int64_t Batcher::batchesPerEpoch() const {
  return (rows() + batch - 1) / batch;
}

std::vector<int64_t> Batcher::epochOrder(int64_t epoch) const {
  std::vector<int64_t> order = indices;
  if (shuffle) {
    Rng rng(deriveSeed(seed, static_cast<uint64_t>(epoch)));
    rng.shuffle(order);
  }
  return order;
}

Batch Batcher::get(int64_t epoch, int64_t i) const {
  NN_ASSERT(i >= 0 && i < batchesPerEpoch(), "batch index out of range");
  int64_t begin = i * batch;
  int64_t end = std::min(rows(), begin + batch);
  std::vector<int64_t> rowsOfBatch;
  if (!shuffle) {
    rowsOfBatch.assign(indices.begin() + begin, indices.begin() + end);
  } else {
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (cachedEpoch != epoch || cachedOrder.size() != indices.size()) {
      cachedOrder = epochOrder(epoch);
      cachedEpoch = epoch;
    }
    rowsOfBatch.assign(cachedOrder.begin() + begin, cachedOrder.begin() + end);
  }
  Dataset sel = selectRows(data, rowsOfBatch);
  Batch b;
  b.x = std::move(sel.x);
  b.y = std::move(sel.y);
  b.size = end - begin;
  return b;
}

Tensor gatherBatch(const Tensor &t, const std::vector<int64_t> &order,
                   int64_t begin, int64_t n) {
  NN_ASSERT(!t.shape.empty() && begin >= 0 &&
                begin + n <= static_cast<int64_t>(order.size()),
            "rows out of range");
  int64_t rows = t.shape[0];
  int64_t width = rows == 0 ? 0 : t.numel() / rows;
  std::vector<int64_t> shape = t.shape;
  shape[0] = n;
  Tensor out(shape);
  for (int64_t r = 0; r < n; ++r) {
    int64_t src = order[static_cast<size_t>(begin + r)];
    NN_ASSERT(src >= 0 && src < rows, "row index out of range");
    std::memcpy(out.data.data() + r * width, t.data.data() + src * width,
                static_cast<size_t>(width) * sizeof(float));
  }
  return out;
}

} // namespace nn
