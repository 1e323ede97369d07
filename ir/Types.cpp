//===- Types.cpp - Dtypes, shapes and tensor types ------------------------===//

#include "ir/Types.h"

namespace nn {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "?";
}

int64_t TensorType::numel(int64_t batch) const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d == kBatch ? batch : d;
  return n;
}

int64_t TensorType::numelPerSample() const { return numel(1); }

std::string dimsStr(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      s += ',';
    s += dims[i] == kBatch ? std::string("N") : std::to_string(dims[i]);
  }
  return s + "]";
}

std::string TensorType::str() const {
  if (!known)
    return "?";
  std::string s = dtypeName(dtype);
  if (!dims.empty())
    s += dimsStr(dims);
  return s;
}

} // namespace nn
