//===- Rng.cpp - A portable deterministic random generator ----------------===//
///
/// \file
/// Reference algorithms from https://prng.di.unimi.it (public domain), in
/// integer arithmetic only, so the bits do not depend on the platform.
///
//===----------------------------------------------------------------------===//
#include "runtime/Rng.h"

#include "ir/Support.h"

#include <cmath>
#include <numbers>
#include <utility>

namespace nn {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t deriveSeed(uint64_t seed, uint64_t stream) {
  uint64_t a = seed;
  uint64_t b = stream ^ 0x6A09E667F3BCC909ull;
  uint64_t h = splitmix64(a);
  return h ^ splitmix64(b) * 0x9E3779B97F4A7C15ull;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

Rng::Rng(uint64_t seed) {
  uint64_t st = seed;
  for (uint64_t &w : s)
    w = splitmix64(st);
  // splitmix64 never yields four zero words in a row, but be certain: the
  // all-zero state is the one state xoshiro cannot leave.
  if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0)
    s[0] = 1;
}

uint64_t Rng::next() {
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t bound) {
  NN_ASSERT(bound > 0, "Rng::below needs a positive bound");
  // Reject the lowest (2^64 mod bound) values so that every residue is
  // equally likely.
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t r = next();
    if (r >= threshold)
      return r % bound;
  }
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal(double mean, double std) {
  double u1 = 1.0 - uniform(); // (0, 1]: log(u1) is finite
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  return mean + std * r * std::cos(2.0 * std::numbers::pi * u2);
}

void Rng::shuffle(std::vector<int64_t> &v) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(below(i));
    std::swap(v[i - 1], v[j]);
  }
}

} // namespace nn
