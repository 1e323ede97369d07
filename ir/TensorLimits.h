//===- TensorLimits.h - The largest tensor nnc accepts ---------*- C++ -*-===//
///
/// \file
/// One explicit size limit, checked without overflow wherever a shape comes
/// from outside (the .nn frontend, IR text, shape inference) and so before
/// anything is allocated: a tensor's float32 data, one sample's worth for
/// shapes with a batch dimension, is at most kMaxTensorBytes.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Types.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// 1 TiB: far past any real model, and small enough that element counts times
/// batch sizes and byte offsets stay well inside int64_t.
inline constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// The bytes of `dims` as float32 (a batch dimension counts 1), or -1 when
/// that exceeds kMaxTensorBytes (computed without overflow; negative
/// dimensions other than kBatch count as too large).
inline int64_t tensorBytes(const std::vector<int64_t> &dims) {
  int64_t bytes = 4;
  for (int64_t d : dims) {
    if (d == kBatch)
      continue;
    if (d < 0 || (d > 0 && bytes > kMaxTensorBytes / d))
      return -1;
    bytes *= d;
  }
  return bytes;
}

/// "" when `dims` is within the limit, else the error message (lower case,
/// no final period): "tensor f32[...] is too large (more than 1 TiB)".
inline std::string tensorSizeError(const std::vector<int64_t> &dims) {
  if (tensorBytes(dims) >= 0)
    return "";
  return "tensor " + TensorType::of(dims).str() +
         " is too large (more than 1 TiB of float32 data)";
}

} // namespace nn
