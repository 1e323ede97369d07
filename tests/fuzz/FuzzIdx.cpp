//===- FuzzIdx.cpp - libFuzzer target: the IDX reader ---------------------===//
///
/// \file
/// Bytes as an IDX file (parseIdx). A result must hold exactly the values
/// its shape claims.
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "runtime/Idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return nn::fuzz::runGuarded([&] {
    nn::IdxArray a = nn::parseIdx("fuzz.idx", data, size);
    // The element count, without overflow even for dimensions with a zero.
    int64_t n = 1;
    bool overflow = false;
    for (int64_t d : a.values.shape)
      overflow |= d < 0 || __builtin_mul_overflow(n, d, &n);
    if (overflow || n != static_cast<int64_t>(a.values.data.size()))
      std::abort();
  });
}
