//===- BatcherTest.cpp - Rng, validation split and batching tests ---------===//
///
/// \file
/// The generator's fixed sequence, the split's determinism, and batches:
/// sizes, order, every row once per epoch, same order for the same epoch.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Batcher.h"
#include "runtime/Rng.h"

#include <cmath>
#include <numeric>
#include <set>

using namespace nn;
using namespace nn::testing;

TEST(Rng, SplitMix64ReferenceValues) {
  // From the reference implementation (seed 1234567).
  uint64_t s = 1234567;
  EXPECT_EQ(splitmix64(s), 6457827717110365317ull);
  EXPECT_EQ(splitmix64(s), 3203168211198807973ull);
  EXPECT_EQ(splitmix64(s), 9817491932198370423ull);
}

TEST(Rng, XoshiroReferenceValues) {
  // xoshiro256** from the state {1, 2, 3, 4}: values of the reference C code.
  Rng r(0);
  r.setState({1, 2, 3, 4});
  EXPECT_EQ(r.next(), 11520ull);
  EXPECT_EQ(r.next(), 0ull);
  EXPECT_EQ(r.next(), 1509978240ull);
  EXPECT_EQ(r.next(), 1215971899390074240ull);
}

TEST(Rng, DeterministicAndSeedDependent) {
  Rng a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.next());
    vb.push_back(b.next());
    vc.push_back(c.next());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  Rng d(42);
  auto st = d.state();
  uint64_t x = d.next();
  d.setState(st);
  EXPECT_EQ(d.next(), x);
}

TEST(Rng, UniformAndNormalStatistics) {
  Rng r(7);
  const int n = 200000;
  double sum = 0, sumSq = 0, lo = 1, hi = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  // Mean 1/2 with standard error sqrt(1/12/n) ~ 0.00065: 5 sigma.
  EXPECT_NEAR(sum / n, 0.5, 0.0033);
  EXPECT_LT(lo, 0.001);
  EXPECT_GT(hi, 0.999);
  for (int i = 0; i < 1000; ++i) {
    double u = r.uniform(-2.0, 3.0);
    ASSERT_GE(u, -2.0);
    ASSERT_LT(u, 3.0);
  }
  sum = sumSq = 0;
  for (int i = 0; i < n; ++i) {
    double z = r.normal(1.0, 2.0);
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sumSq += (z - 1.0) * (z - 1.0);
  }
  // Mean: se = 2/sqrt(n) ~ 0.0045; variance 4: se ~ 4*sqrt(2/n) ~ 0.0126.
  EXPECT_NEAR(sum / n, 1.0, 0.0225);
  EXPECT_NEAR(sumSq / n, 4.0, 0.063);
}

TEST(Rng, BelowIsUniform) {
  Rng r(3);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i)
    ++counts[r.below(6)];
  // Each count ~ Binomial(60000, 1/6): sd ~ 91; allow 5 sd.
  for (int c : counts)
    EXPECT_NEAR(c, 10000, 460);
}

TEST(Rng, ShuffleIsAPermutationAndUnbiased) {
  Rng r(11);
  // Where element 0 lands over many shuffles of 4 elements.
  std::vector<int> where(4, 0);
  for (int i = 0; i < 40000; ++i) {
    std::vector<int64_t> v = {0, 1, 2, 3};
    r.shuffle(v);
    std::vector<int64_t> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(sorted, (std::vector<int64_t>{0, 1, 2, 3}));
    ++where[std::find(v.begin(), v.end(), 0) - v.begin()];
  }
  for (int c : where)
    EXPECT_NEAR(c, 10000, 435); // sd ~ 87
  std::vector<int64_t> empty;
  r.shuffle(empty);
  EXPECT_TRUE(empty.empty());
}

TEST(Split, DeterministicDisjointAndSized) {
  auto [train, val] = splitValidation(100, 0.1, 5);
  EXPECT_EQ(train.size(), 90u);
  EXPECT_EQ(val.size(), 10u);
  std::set<int64_t> all(train.begin(), train.end());
  all.insert(val.begin(), val.end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 99);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end()));
  auto again = splitValidation(100, 0.1, 5);
  EXPECT_EQ(again.second, val);
  auto other = splitValidation(100, 0.1, 6);
  EXPECT_NE(other.second, val);
  // The documented rule: the last round(f*n) of a Rng(seed) shuffle.
  std::vector<int64_t> order(100);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(5);
  rng.shuffle(order);
  std::vector<int64_t> want(order.end() - 10, order.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(val, want);
  // Rounding: 0.25 of 10 is 2.5, rounded away from zero to 3.
  EXPECT_EQ(splitValidation(10, 0.25, 1).second.size(), 3u);
}

TEST(Split, NoValidation) {
  auto [train, val] = splitValidation(5, 0.0, 9);
  EXPECT_EQ(train, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(val.empty());
  auto [t0, v0] = splitValidation(0, 0.5, 9);
  EXPECT_TRUE(t0.empty() && v0.empty());
}

TEST(Split, Errors) {
  EXPECT_USER_ERROR(splitValidation(10, 1.0, 0),
                    "error: validation fraction must be in [0, 1), got 1");
  EXPECT_USER_ERROR(splitValidation(10, -0.1, 0),
                    "validation fraction must be in [0, 1), got -0.1");
  EXPECT_USER_ERROR(splitValidation(10, std::nan(""), 0),
                    "validation fraction must be in [0, 1)");
  EXPECT_USER_ERROR(splitValidation(1, 0.6, 0),
                    "error: validation fraction 0.6 of 1 samples leaves no "
                    "training data");
}

namespace {

/// n rows; x row i = {i, 10i}, y = 100 + i.
Dataset numbered(int64_t n) {
  Dataset d;
  d.source = "numbered";
  d.x = Tensor({n, 2});
  d.y = Tensor({n});
  for (int64_t i = 0; i < n; ++i) {
    d.x[2 * i] = static_cast<float>(i);
    d.x[2 * i + 1] = static_cast<float>(10 * i);
    d.y[i] = static_cast<float>(100 + i);
  }
  return d;
}

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

/// The row ids of an epoch, read back from the batches' x and y.
std::vector<int64_t> epochRows(const Batcher &b, int64_t epoch) {
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < b.batchesPerEpoch(); ++i) {
    Batch batch = b.get(epoch, i);
    for (int64_t r = 0; r < batch.size; ++r) {
      int64_t id = static_cast<int64_t>(batch.x[2 * r]);
      EXPECT_EQ(batch.x[2 * r + 1], 10.0f * id);
      EXPECT_EQ(batch.y[r], 100.0f + id);
      rows.push_back(id);
    }
  }
  return rows;
}

} // namespace

TEST(Batcher, PartialLastBatchAndShapes) {
  Dataset d = numbered(10);
  Batcher b(d, range(10), 4, false, 0);
  EXPECT_EQ(b.batchesPerEpoch(), 3);
  Batch first = b.get(0, 0);
  EXPECT_EQ(first.size, 4);
  EXPECT_EQ(first.x.shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(first.y.shape, (std::vector<int64_t>{4}));
  Batch last = b.get(0, 2);
  EXPECT_EQ(last.size, 2);
  EXPECT_EQ(last.x.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(last.y.data, (std::vector<float>{108, 109}));
  // Batch larger than the data: one batch of everything.
  Batcher big(d, range(10), 64, true, 1);
  EXPECT_EQ(big.batchesPerEpoch(), 1);
  EXPECT_EQ(big.get(0, 0).size, 10);
  Batcher none(d, {}, 4, true, 1);
  EXPECT_EQ(none.batchesPerEpoch(), 0);
}

TEST(Batcher, NoShuffleKeepsIndexOrder) {
  Dataset d = numbered(10);
  std::vector<int64_t> idx = {7, 2, 9, 0, 5};
  Batcher b(d, idx, 2, false, 123);
  EXPECT_EQ(epochRows(b, 0), idx);
  EXPECT_EQ(epochRows(b, 5), idx);
}

TEST(Batcher, ShuffleIsAPermutationPerEpoch) {
  Dataset d = numbered(103);
  std::vector<int64_t> idx = range(103);
  Batcher b(d, idx, 8, true, 42);
  EXPECT_EQ(b.batchesPerEpoch(), 13);
  std::vector<int64_t> e0 = epochRows(b, 0);
  std::vector<int64_t> e1 = epochRows(b, 1);
  for (const auto &e : {e0, e1}) {
    std::vector<int64_t> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, idx); // every row exactly once
  }
  EXPECT_NE(e0, idx);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, b.epochOrder(0));
}

TEST(Batcher, OrderDependsOnSeedAndEpochOnly) {
  Dataset d = numbered(50);
  Batcher a(d, range(50), 7, true, 9);
  Batcher resumed(d, range(50), 7, true, 9);
  Batcher otherSeed(d, range(50), 7, true, 10);
  std::vector<int64_t> a3 = epochRows(a, 3);
  // A fresh Batcher asked for epoch 3 first (a resumed run) agrees, and
  // asking for batches out of order changes nothing.
  EXPECT_EQ(epochRows(resumed, 3), a3);
  Batch mid = a.get(3, 4);
  (void)a.get(0, 0);
  EXPECT_EQ(a.get(3, 4).y.data, mid.y.data);
  EXPECT_NE(epochRows(otherSeed, 3), a3);
  // The documented derivation.
  std::vector<int64_t> want = range(50);
  Rng r(deriveSeed(9, 3));
  r.shuffle(want);
  EXPECT_EQ(a3, want);
}

TEST(Batcher, SubsetOfRows) {
  Dataset d = numbered(20);
  auto [train, val] = splitValidation(20, 0.25, 1);
  Batcher b(d, train, 4, true, 2);
  std::vector<int64_t> rows = epochRows(b, 0);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, train);
}

TEST(Batcher, Errors) {
  Dataset d = numbered(5);
  EXPECT_USER_ERROR(Batcher(d, range(5), 0, true, 0),
                    "error: batch size must be at least 1, got 0");
  EXPECT_USER_ERROR(Batcher(d, {0, 5}, 2, true, 0),
                    "numbered: error: sample index 5 out of range [0, 5)");
  Dataset bad = numbered(5);
  bad.y = Tensor({4});
  EXPECT_USER_ERROR(Batcher(bad, range(4), 2, true, 0),
                    "numbered: error: 5 samples but 4 labels");
}

TEST(Dataset, SelectRows) {
  Dataset d = numbered(6);
  Dataset s = selectRows(d, {5, 0, 5});
  EXPECT_EQ(s.size(), 3);
  EXPECT_EQ(s.y.data, (std::vector<float>{105, 100, 105}));
  EXPECT_EQ(s.x.data, (std::vector<float>{5, 50, 0, 0, 5, 50}));
}
