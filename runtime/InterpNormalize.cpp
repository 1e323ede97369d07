//===- InterpNormalize.cpp - Naive kernels: normalize, normalize_grad -----===//
///
/// \file
/// layer_norm's row ops over double, as ir/Ops.def states them: two passes
/// per row (the mean, then the biased variance about it), no shortcuts. The
/// oracle the CPU and CUDA kernels are compared with.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/Support.h"

#include <cmath>

namespace nn::interp {

namespace {

/// The mean and s = sqrt(var + eps) of row `r` (length c) of `x`.
std::pair<double, double> rowMoments(const Value &x, int64_t r, int64_t c,
                                     double eps) {
  const double *row = x.data.data() + r * c;
  double sum = 0;
  for (int64_t j = 0; j < c; ++j)
    sum += row[j];
  double mean = sum / static_cast<double>(c);
  double sq = 0;
  for (int64_t j = 0; j < c; ++j)
    sq += (row[j] - mean) * (row[j] - mean);
  double var = sq / static_cast<double>(c);
  return {mean, std::sqrt(var + eps)};
}

} // namespace

std::pair<double, double> normalizeMoments(const Value &x, int64_t r,
                                           double eps) {
  return rowMoments(x, r, rowLen(x), eps);
}

Value normalize(const Value &x, double eps) {
  Value y = x;
  int64_t c = rowLen(x);
  for (int64_t r = 0; c > 0 && r < x.numel() / c; ++r) {
    auto [mean, s] = rowMoments(x, r, c, eps);
    for (int64_t j = 0; j < c; ++j)
      y.data[r * c + j] = (x.data[r * c + j] - mean) / s;
  }
  return y;
}

Value normalizeGrad(const Value &dy, const Value &x, double eps) {
  NN_ASSERT(dy.shape == x.shape, "normalize_grad: dy and x differ in shape");
  Value dx = x;
  int64_t c = rowLen(x);
  for (int64_t r = 0; c > 0 && r < x.numel() / c; ++r) {
    auto [mean, s] = rowMoments(x, r, c, eps);
    const double *g = dy.data.data() + r * c;
    const double *row = x.data.data() + r * c;
    double sumDy = 0, sumDyXh = 0;
    for (int64_t j = 0; j < c; ++j) {
      sumDy += g[j];
      sumDyXh += g[j] * ((row[j] - mean) / s);
    }
    double meanDy = sumDy / static_cast<double>(c);
    double meanDyXh = sumDyXh / static_cast<double>(c);
    for (int64_t j = 0; j < c; ++j) {
      double xh = (row[j] - mean) / s;
      dx.data[r * c + j] = (g[j] - meanDy - xh * meanDyXh) / s;
    }
  }
  return dx;
}

} // namespace nn::interp
