//===- PhiloxTest.cpp - The generator of dropout, against its KATs
//---------===//
///
/// \file
/// ir/Philox.h against the published known answers of Philox 4x32-10
/// (Random123's kat_vectors: counter, key, expected output), and the
/// layout dropout builds on it: which block and word an element reads, the
/// uniform number, the exact threshold of p, the scale.
///
//===----------------------------------------------------------------------===//

#include "ir/Philox.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;

namespace {

struct Kat {
  std::array<uint32_t, 4> ctr;
  uint32_t k0, k1;
  std::array<uint32_t, 4> want;
};

// Random123 1.14, tests/kat_vectors, the three "philox4x32 10" lines.
const Kat kKats[] = {
    {{0, 0, 0, 0}, 0, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     0xffffffff,
     0xffffffff,
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     0xa4093822,
     0x299f31d0,
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, KnownAnswers) {
  for (const Kat &k : kKats)
    EXPECT_EQ(philox::block(k.ctr, k.k0, k.k1), k.want)
        << std::hex << "counter " << k.ctr[0] << " key " << k.k0;
}

TEST(Philox, ElementsReadTheWordsOfTheirGroupOfFour) {
  const uint64_t seed = 0x0123456789abcdefULL;
  const uint32_t step = 5, stream = 3;
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4},
                    int64_t{1001}, int64_t{1} << 36}) {
    uint64_t g = static_cast<uint64_t>(i) / 4;
    std::array<uint32_t, 4> w =
        philox::block({static_cast<uint32_t>(g), static_cast<uint32_t>(g >> 32),
                       step, stream},
                      0x89abcdefu, 0x01234567u);
    EXPECT_EQ(philox::dropoutWord(seed, step, stream, i), w[i % 4]) << i;
  }
  // Another step, stream or seed is another block.
  uint32_t w = philox::dropoutWord(seed, step, stream, 9);
  EXPECT_NE(philox::dropoutWord(seed, step + 1, stream, 9), w);
  EXPECT_NE(philox::dropoutWord(seed, step, stream + 1, 9), w);
  EXPECT_NE(philox::dropoutWord(seed + 1, step, stream, 9), w);
}

TEST(Philox, UniformIsExactInFloatAndBelowOne) {
  for (uint32_t word : {0u, 0xffu, 0x100u, 0x12345678u, 0xffffffffu}) {
    double u = philox::uniform(word);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_EQ(static_cast<double>(static_cast<float>(u)), u) << word;
  }
  EXPECT_EQ(philox::uniform(0xffffffffu), 1.0 - 0x1p-24);
}

TEST(Philox, TheThresholdIsUAtLeastPWithoutRounding) {
  // keep <=> (word >> 8) >= keepThreshold(p) <=> u >= p, also where u and
  // p are one 2^-24 apart and where p is a multiple of 2^-24.
  for (double p : {0.0, 0.1, 0.2, 0.5, 0.3 + 1e-9, 0x1p-24, 3 * 0x1p-24,
                   1 - 0x1p-24, 0.999999}) {
    uint32_t t = philox::keepThreshold(p);
    for (int64_t d = -2; d <= 2; ++d) {
      int64_t k = static_cast<int64_t>(t) + d;
      if (k < 0 || k >= (int64_t{1} << 24))
        continue;
      uint32_t word = static_cast<uint32_t>(k) << 8 | 0x7fu;
      EXPECT_EQ((word >> 8) >= t, philox::uniform(word) >= p)
          << "p " << p << " k " << k;
    }
  }
  EXPECT_EQ(philox::keepThreshold(0.0), 0u); // p = 0 keeps everything
  EXPECT_EQ(philox::keepThreshold(0.5), 1u << 23);
}

TEST(Philox, TheScaleIsPyTorchsFloatQuotient) {
  EXPECT_EQ(philox::dropoutScale(0.2), 1.0f / 0.8f);
  EXPECT_EQ(philox::dropoutScale(0.5), 2.0f);
  EXPECT_EQ(philox::dropoutScale(0.0), 1.0f);
  EXPECT_EQ(philox::dropoutScale(0.1), 1.0f / static_cast<float>(0.9));
}

TEST(Philox, TheStepWordOfTheStepLeaf) {
  EXPECT_EQ(philox::stepWord(0), 0u);
  EXPECT_EQ(philox::stepWord(41), 41u);
  EXPECT_EQ(philox::stepWord(-3), 0u);
  EXPECT_EQ(philox::stepWord(16777216.0), 16777216u);
}

} // namespace
