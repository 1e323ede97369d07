//===- Broadcast.h - numpy broadcasting of trailing dimensions -*- C++ -*-===//
///
/// \file
/// The broadcasting question the backends ask of a shape, free of LLVM and
/// of CUDA so that every backend includes the one definition.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nn {

/// Whether `a` broadcasts to `out` (numpy, trailing dimensions aligned):
/// each of a's dimensions is 1 or equal to out's dimension it aligns with.
inline bool fitsBroadcast(const std::vector<int64_t> &a,
                          const std::vector<int64_t> &out) {
  if (a.size() > out.size())
    return false;
  size_t off = out.size() - a.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != 1 && a[i] != out[off + i])
      return false;
  return true;
}

} // namespace nn
