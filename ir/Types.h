//===- Types.h - Dtypes, shapes and tensor types ---------------*- C++ -*-===//
///
/// \file
/// Tensor types of the graph IR. The batch dimension is symbolic: it is
/// stored as `kBatch` and printed as `N`, so one graph serves every batch
/// size (the last partial batch included).
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

enum class DType { F32, I32 };

/// The symbolic batch dimension, printed `N`.
constexpr int64_t kBatch = -1;

/// "f32" or "i32".
const char *dtypeName(DType t);

/// A dtype and a list of dimensions; rank 0 is a scalar. `known` is false
/// until shape inference has run on a node that is not a leaf.
struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> dims;
  bool known = false;

  static TensorType scalar(DType t = DType::F32) { return {t, {}, true}; }
  static TensorType of(std::vector<int64_t> dims, DType t = DType::F32) {
    return {t, std::move(dims), true};
  }

  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
  bool isScalar() const { return dims.empty(); }
  bool hasBatch() const { return !dims.empty() && dims[0] == kBatch; }
  /// Number of elements with the batch dimension set to `batch`.
  int64_t numel(int64_t batch = 1) const;
  /// Number of elements per sample (the batch dimension left out).
  int64_t numelPerSample() const;
  /// "f32[N,784]", "f32" for a scalar, "?" when not known.
  std::string str() const;

  bool operator==(const TensorType &o) const {
    return dtype == o.dtype && dims == o.dims && known == o.known;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
};

/// "[N,784]" for dims {kBatch, 784}; "[]" for a scalar.
std::string dimsStr(const std::vector<int64_t> &dims);

} // namespace nn
