//===- Rng.h - A portable deterministic random generator -------*- C++ -*-===//
///
/// \file
/// xoshiro256** seeded through splitmix64, with uniform, normal (Box-Muller)
/// and shuffle written here rather than taken from <random>, whose
/// distributions differ between standard libraries: a seed gives the same
/// numbers on every platform.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace nn {

/// One step of splitmix64: advances `state` and returns the next output. Also
/// a good 64-bit mixing function for deriving seeds.
uint64_t splitmix64(uint64_t &state);

/// A seed for a sub-stream, derived from `seed` and `stream` alone (e.g. the
/// shuffle of epoch `stream`): different streams give unrelated sequences.
uint64_t deriveSeed(uint64_t seed, uint64_t stream);

/// xoshiro256** (Blackman and Vigna). Not for cryptography.
class Rng {
public:
  explicit Rng(uint64_t seed);

  /// The next 64 random bits.
  uint64_t next();
  /// A uniform integer in [0, bound), without modulo bias; bound must be > 0.
  uint64_t below(uint64_t bound);
  /// A uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// A uniform double in [lo, hi).
  double uniform(double lo, double hi);
  /// A normal sample (Box-Muller, one sample per two uniforms, no cached
  /// second value, so the state below is the whole state).
  double normal(double mean, double std);
  /// Fisher-Yates: every permutation equally likely.
  void shuffle(std::vector<int64_t> &v);

  /// The generator's complete state, e.g. for a checkpoint.
  std::array<uint64_t, 4> state() const { return s; }
  void setState(const std::array<uint64_t, 4> &st) { s = st; }

private:
  std::array<uint64_t, 4> s;
};

} // namespace nn
