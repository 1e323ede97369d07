//===- Philox.h - The counter-based generator of dropout -------*- C++ -*-===//
///
/// \file
/// Philox 4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3", SC11; the generator of cuRAND and of PyTorch's CUDA
/// dropout): a keyed bijection of a 128-bit counter, ten rounds of two
/// 32 x 32 -> 64-bit products and xors. The rounds are written once, as a
/// template over an integer emitter (plain uint32_t for the interpreter and
/// the tests, LLVM values for the CPU backend, CUDA C++ text for the CUDA
/// printer), so every backend draws the same bits.
///
/// How dropout uses it (the key and counter layout, every backend):
///   key     = (seed & 0xffffffff, seed >> 32)     seed: Node::seed
///   counter = (g & 0xffffffff, g >> 32, step, stream)
///             g = i / 4, i the element's row-major index in the global
///             batch: first * (elements per row) + its index in the tensor,
///             first the "optimizer.first_row" leaf (the global row of the
///             tensor's row 0: 0 in one process, the first row of the
///             shard under mpirun) when the tensor has a batch dimension,
///             its index alone when not; step: the "optimizer.step" leaf
///             (steps done before this one), stream: Node::stream
///   word    = output word i % 4 of that block
///   u       = (word >> 8) * 2^-24, uniform in [0, 1), exact in float
///   keep    = u >= p, compared exactly as (word >> 8) >= keepThreshold(p)
///   y       = x * (keep ? dropoutScale(p) : 0)
/// so four neighbouring elements share one block, as curand_uniform4 does,
/// and a shard of rows [b, e) draws the masks the whole batch draws for
/// those rows. Limits: first is a float leaf, exact below 2^24 rows (a
/// batch has fewer); i stays below 2^63 (tensors are far smaller), so g
/// fits the two words and no two elements of a step and stream share a
/// word.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Types.h"

#include <array>
#include <cmath>
#include <cstdint>

namespace nn::philox {

/// The round multipliers and the key's Weyl increments (Random123).
constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;

/// The key of round `r` (0-based): the key bumped r times by the Weyl
/// increments. The key is a constant of each node, so emitters get it as
/// numbers.
inline std::array<uint32_t, 2> roundKey(uint32_t k0, uint32_t k1, int r) {
  return {k0 + static_cast<uint32_t>(r) * kWeyl0,
          k1 + static_cast<uint32_t>(r) * kWeyl1};
}

/// Philox 4x32-10 of counter `c` under key (k0, k1). The emitter E has
/// `Value`, `constant(uint32_t)`, `mulHi(a, b)` and `mulLo(a, b)` (the high
/// and low words of the 64-bit product) and `bitXor(a, b)`, all on unsigned
/// 32-bit words.
template <class E>
std::array<typename E::Value, 4> block(E &e, std::array<typename E::Value, 4> c,
                                       uint32_t k0, uint32_t k1) {
  auto m0 = e.constant(kMul0), m1 = e.constant(kMul1);
  for (int r = 0; r < kRounds; ++r) {
    std::array<uint32_t, 2> k = roundKey(k0, k1, r);
    auto hi0 = e.mulHi(m0, c[0]), lo0 = e.mulLo(m0, c[0]);
    auto hi1 = e.mulHi(m1, c[2]), lo1 = e.mulLo(m1, c[2]);
    c = {e.bitXor(e.bitXor(hi1, c[1]), e.constant(k[0])), lo1,
         e.bitXor(e.bitXor(hi0, c[3]), e.constant(k[1])), lo0};
  }
  return c;
}

/// The emitter of plain C++ words (the interpreter, tests, explain).
struct WordMath {
  using Value = uint32_t;
  Value constant(uint32_t v) { return v; }
  Value mulHi(Value a, Value b) {
    return static_cast<uint32_t>((uint64_t{a} * b) >> 32);
  }
  Value mulLo(Value a, Value b) {
    return static_cast<uint32_t>(uint64_t{a} * b);
  }
  Value bitXor(Value a, Value b) { return a ^ b; }
};

/// Philox 4x32-10 on plain words.
inline std::array<uint32_t, 4> block(std::array<uint32_t, 4> c, uint32_t k0,
                                     uint32_t k1) {
  WordMath e;
  return block(e, c, k0, k1);
}

/// The key words of a seed.
inline uint32_t keyLo(uint64_t seed) { return static_cast<uint32_t>(seed); }
inline uint32_t keyHi(uint64_t seed) {
  return static_cast<uint32_t>(seed >> 32);
}

/// The step count as the counter's third word: the "optimizer.step" leaf holds
/// a whole number >= 0 (exact in float up to 2^24 steps).
inline uint32_t stepWord(double step) {
  return step > 0 ? static_cast<uint32_t>(step) : 0u;
}

/// The global batch row of a tensor's row 0, from the "optimizer.first_row"
/// leaf: a whole number >= 0 (exact in float below 2^24 rows).
inline uint64_t firstRowWord(double firstRow) {
  return firstRow > 0 ? static_cast<uint64_t>(firstRow) : 0u;
}

/// The counter index of element `i` of a tensor whose row 0 is row
/// `firstRow` of the global batch, `rowWidth` elements a row (0 for a
/// tensor without a batch dimension: every process holds all of it).
inline int64_t globalIndex(double firstRow, int64_t rowWidth, int64_t i) {
  return static_cast<int64_t>(firstRowWord(firstRow) *
                              static_cast<uint64_t>(rowWidth)) +
         i;
}

/// The elements per row a dropout's first row is counted in: those of a
/// sample when its tensor has a batch dimension, else 0.
inline int64_t dropoutRowWidth(const TensorType &t) {
  return t.hasBatch() ? t.numelPerSample() : 0;
}

/// The random word of element `i` of a dropout keyed (seed, step, stream),
/// `i` its index in the global batch (globalIndex).
inline uint32_t dropoutWord(uint64_t seed, uint32_t step, uint32_t stream,
                            int64_t i) {
  uint64_t g = static_cast<uint64_t>(i) >> 2;
  std::array<uint32_t, 4> w = block(
      {static_cast<uint32_t>(g), static_cast<uint32_t>(g >> 32), step, stream},
      keyLo(seed), keyHi(seed));
  return w[static_cast<size_t>(i & 3)];
}

/// u = (word >> 8) * 2^-24 in [0, 1): 24 random bits, exact in float.
inline double uniform(uint32_t word) {
  return static_cast<double>(word >> 8) * 0x1p-24;
}

/// The smallest k with k * 2^-24 >= p: keep = (word >> 8) >= this, which
/// is u >= p without rounding (p in [0, 1): at most 2^24).
inline uint32_t keepThreshold(double p) {
  return static_cast<uint32_t>(std::ceil(p * 0x1p24));
}

/// The factor kept elements are multiplied by: 1 / (1 - p) in float, as
/// PyTorch's nn.Dropout computes it (the float 1 divided by the float
/// 1 - p), the same number on every backend.
inline float dropoutScale(double p) {
  return 1.0f / static_cast<float>(1.0 - p);
}

/// Whether element `i` is kept.
inline bool dropoutKeep(uint64_t seed, uint32_t step, uint32_t stream,
                        int64_t i, double p) {
  return (dropoutWord(seed, step, stream, i) >> 8) >= keepThreshold(p);
}

} // namespace nn::philox
