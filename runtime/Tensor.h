//===- Tensor.h - Host tensors ---------------------------------*- C++ -*-===//
///
/// \file
/// A dense row-major float32 tensor on the host: what data sets, weight files
/// and checkpoints hold. The reference interpreter computes in double and
/// converts at its edges.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nn {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s)
      : shape(std::move(s)), data(static_cast<size_t>(numelOf(shape)), 0.0f) {}

  int64_t numel() const { return numelOf(shape); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  float &operator[](int64_t i) { return data[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data[static_cast<size_t>(i)]; }

  static int64_t numelOf(const std::vector<int64_t> &s) {
    int64_t n = 1;
    for (int64_t d : s)
      n *= d;
    return n;
  }
};

/// Named tensors, ordered by name: parameters, optimizer state, a weights
/// file's contents.
using TensorMap = std::map<std::string, Tensor>;

} // namespace nn
