//===- Dataset.cpp - Samples and labels in memory -------------------------===//
///
/// \file
/// The train/validation split and row selection; the file loaders live in
/// Idx.cpp and Csv.cpp.
///
//===----------------------------------------------------------------------===//
#include "runtime/Dataset.h"

#include "ir/Support.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace nn {

std::pair<std::vector<int64_t>, std::vector<int64_t>>
splitValidation(int64_t n, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    std::ostringstream os;
    os << "error: validation fraction must be in [0, 1), got " << fraction;
    throw UserError(os.str());
  }
  if (n < 0)
    throw UserError("error: negative data set size " + std::to_string(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i;
  int64_t numVal = static_cast<int64_t>(std::llround(fraction * double(n)));
  if (n > 0 && numVal >= n) {
    std::ostringstream os;
    os << "error: validation fraction " << fraction << " of " << n
       << " samples leaves no training data";
    throw UserError(os.str());
  }
  if (numVal > 0) {
    Rng rng(seed);
    rng.shuffle(order);
  }
  auto cut = order.begin() + (n - numVal);
  std::vector<int64_t> train(order.begin(), cut);
  std::vector<int64_t> val(cut, order.end());
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {std::move(train), std::move(val)};
}

/// Copies rows `indices` of `t` (rows = first dimension).
static Tensor gatherRows(const Tensor &t, const std::vector<int64_t> &indices) {
  NN_ASSERT(!t.shape.empty(), "cannot select rows of a scalar");
  std::vector<int64_t> shape = t.shape;
  int64_t rows = shape[0];
  int64_t rowSize = rows == 0 ? 0 : t.numel() / rows;
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor out(shape);
  for (size_t r = 0; r < indices.size(); ++r) {
    int64_t src = indices[r];
    NN_ASSERT(src >= 0 && src < rows, "row index out of range");
    std::memcpy(out.data.data() + r * rowSize, t.data.data() + src * rowSize,
                static_cast<size_t>(rowSize) * sizeof(float));
  }
  return out;
}

Dataset selectRows(const Dataset &data, const std::vector<int64_t> &indices) {
  Dataset out;
  out.x = gatherRows(data.x, indices);
  out.y = gatherRows(data.y, indices);
  out.source = data.source;
  return out;
}

} // namespace nn
