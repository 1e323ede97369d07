//===- SyntheticTest.cpp - The 2-D toy data sets of nnc data --------------===//
///
/// \file
/// The generators of runtime/Synthetic: the same seed gives the same bytes
/// (and the bytes pinned here, so that a host whose numbers differ fails),
/// other seeds other points, labels alternate and balance, each shape is
/// where it should be at noise 0, the noise only moves points, and the CSV
/// reads back through the loader.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Csv.h"
#include "runtime/Synthetic.h"

#include <cmath>

using namespace nn;

namespace {

const SyntheticKind kAll[] = {SyntheticKind::Circles, SyntheticKind::Spirals,
                              SyntheticKind::Gaussians, SyntheticKind::Xor};

std::vector<SyntheticPoint> make(SyntheticKind k, int64_t n, double noise,
                                 uint64_t seed) {
  return makeSynthetic(k, SyntheticOptions{n, noise, seed});
}

std::string csv(SyntheticKind k, int64_t n, double noise, uint64_t seed) {
  return syntheticCsv(make(k, n, noise, seed));
}

double radius(const SyntheticPoint &p) { return std::hypot(p.x1, p.x2); }

} // namespace

TEST(Synthetic, KindNames) {
  for (const std::string &name : syntheticKindNames())
    EXPECT_TRUE(syntheticKindNamed(name).has_value()) << name;
  EXPECT_EQ(syntheticKindNamed("spirals"), SyntheticKind::Spirals);
  EXPECT_FALSE(syntheticKindNamed("spiral").has_value());
  EXPECT_FALSE(syntheticKindNamed("").has_value());
}

TEST(Synthetic, SameSeedSameBytes) {
  for (SyntheticKind k : kAll)
    EXPECT_EQ(csv(k, 300, 0.2, 9), csv(k, 300, 0.2, 9));
}

TEST(Synthetic, OtherSeedsOtherPoints) {
  // Spirals place their points without randomness: only the noise differs.
  for (SyntheticKind k : kAll) {
    double noise = k == SyntheticKind::Spirals ? 0.1 : 0;
    EXPECT_NE(csv(k, 50, noise, 1), csv(k, 50, noise, 2));
  }
  EXPECT_EQ(csv(SyntheticKind::Spirals, 50, 0, 1),
            csv(SyntheticKind::Spirals, 50, 0, 2));
}

// The first rows of each kind for seed 1, noise 0.1: the numbers of
// runtime/Rng and the rounding of fixed4 on this host against the ones
// they gave where these were written.
TEST(Synthetic, PinnedBytes) {
  EXPECT_EQ(csv(SyntheticKind::Circles, 4, 0.1, 1), "x1,x2,y\n"
            "-0.2102,-1.7646,1\n"
            "3.4809,2.7945,0\n"
            "-0.6055,-1.9630,1\n"
            "-4.2597,-2.3064,0\n");
  EXPECT_EQ(csv(SyntheticKind::Spirals, 4, 0.1, 1), "x1,x2,y\n"
            "0.0406,0.0041,1\n"
            "0.0148,-0.0217,0\n"
            "-1.7283,1.6965,1\n"
            "1.6820,-1.7915,0\n");
  EXPECT_EQ(csv(SyntheticKind::Gaussians, 4, 0.1, 1), "x1,x2,y\n"
            "0.4942,0.9151,1\n"
            "-2.1953,-3.8127,0\n"
            "0.7851,3.0442,1\n"
            "-1.6958,-3.1453,0\n");
  EXPECT_EQ(csv(SyntheticKind::Xor, 4, 0.1, 1), "x1,x2,y\n"
            "2.8804,3.2100,1\n"
            "-0.5818,2.2163,0\n"
            "5.1199,4.9839,1\n"
            "0.6114,-2.8440,0\n");
}

TEST(Synthetic, LabelsAlternateAndBalance) {
  for (SyntheticKind k : kAll) {
    std::vector<SyntheticPoint> pts = make(k, 101, 0.3, 4);
    ASSERT_EQ(pts.size(), 101u);
    int64_t ones = 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      EXPECT_EQ(pts[i].label, i % 2 == 0 ? 1 : 0) << "row " << i;
      ones += pts[i].label;
    }
    EXPECT_EQ(ones, 51);
  }
}

TEST(Synthetic, CirclesNoiseZeroOnTheirRadii) {
  double discMax = 0, ringMin = 1e9, ringMax = 0;
  for (const SyntheticPoint &p : make(SyntheticKind::Circles, 2000, 0, 3)) {
    if (p.label == 1) {
      discMax = std::max(discMax, radius(p));
    } else {
      ringMin = std::min(ringMin, radius(p));
      ringMax = std::max(ringMax, radius(p));
    }
  }
  EXPECT_LE(discMax, kDiscRadius + 1e-12);
  EXPECT_GT(discMax, kDiscRadius - 0.05); // the disc is filled to its edge
  EXPECT_GE(ringMin, kRingInner - 1e-12);
  EXPECT_LT(ringMin, kRingInner + 0.05);
  EXPECT_LE(ringMax, kRingOuter + 1e-12);
  EXPECT_GT(ringMax, kRingOuter - 0.05);
}

TEST(Synthetic, SpiralsAreTwoOppositeSpirals) {
  std::vector<SyntheticPoint> pts = make(SyntheticKind::Spirals, 200, 0, 1);
  for (size_t i = 0; i + 1 < pts.size(); i += 2) {
    double k = static_cast<double>(i / 2);
    EXPECT_NEAR(radius(pts[i]), kSpiralRadius * k / 100, 1e-12);
    // Point k of the second spiral is point k of the first turned by pi.
    EXPECT_NEAR(pts[i + 1].x1, -pts[i].x1, 1e-12);
    EXPECT_NEAR(pts[i + 1].x2, -pts[i].x2, 1e-12);
  }
  // 1.75 turns: the last point of spiral 1 is at angle 1.75 * 2 pi * 99/100
  // from the x2 axis (x1 = r sin t, x2 = r cos t).
  double t = kSpiralTurns * 2 * M_PI * 0.99;
  EXPECT_NEAR(pts[198].x1, 5 * 0.99 * std::sin(t), 1e-12);
  EXPECT_NEAR(pts[198].x2, 5 * 0.99 * std::cos(t), 1e-12);
}

TEST(Synthetic, XorLabelIsTheSignOfTheProduct) {
  int quadrant[4] = {};
  for (const SyntheticPoint &p : make(SyntheticKind::Xor, 1000, 0, 5)) {
    EXPECT_EQ(p.label, p.x1 * p.x2 > 0 ? 1 : 0);
    for (double v : {p.x1, p.x2}) {
      EXPECT_GE(std::fabs(v), kXorPadding);
      EXPECT_LE(std::fabs(v), kXorPadding + kXorExtent);
    }
    ++quadrant[(p.x1 > 0 ? 1 : 0) + (p.x2 > 0 ? 2 : 0)];
  }
  for (int q : quadrant) // 250 expected in each; 4 sigma is about 55
    EXPECT_NEAR(q, 250, 60);
}

TEST(Synthetic, GaussiansAroundTheirCentres) {
  double sum[2][2] = {}, sq[2][2] = {};
  std::vector<SyntheticPoint> pts = make(SyntheticKind::Gaussians, 8000, 0, 6);
  for (const SyntheticPoint &p : pts) {
    sum[p.label][0] += p.x1;
    sum[p.label][1] += p.x2;
    sq[p.label][0] += p.x1 * p.x1;
    sq[p.label][1] += p.x2 * p.x2;
  }
  for (int label : {0, 1})
    for (int c : {0, 1}) {
      double mean = sum[label][c] / 4000;
      double sd = std::sqrt(sq[label][c] / 4000 - mean * mean);
      // Standard error of the mean: 1/sqrt(4000) = 0.016.
      EXPECT_NEAR(mean, label ? kGaussCentre : -kGaussCentre, 0.07);
      EXPECT_NEAR(sd, kGaussStd, 0.05);
    }
}

TEST(Synthetic, NoiseOnlyMovesThePoints) {
  for (SyntheticKind k : kAll) {
    std::vector<SyntheticPoint> clean = make(k, 400, 0, 8);
    std::vector<SyntheticPoint> noisy = make(k, 400, 0.5, 8);
    double most = 0;
    for (size_t i = 0; i < clean.size(); ++i) {
      EXPECT_EQ(clean[i].label, noisy[i].label);
      most = std::max({most, std::fabs(noisy[i].x1 - clean[i].x1),
                       std::fabs(noisy[i].x2 - clean[i].x2)});
    }
    EXPECT_LE(most, 0.5);
    EXPECT_GT(most, 0.45); // 800 draws in [-0.5, 0.5]: one comes close
  }
}

TEST(Synthetic, CsvReadsBackThroughTheLoader) {
  std::vector<SyntheticPoint> pts = make(SyntheticKind::Circles, 60, 0.2, 2);
  Dataset ds = parseCsvDataset("c.csv", syntheticCsv(pts), "y");
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{60, 2}));
  ASSERT_EQ(ds.y.data.size(), 60u);
  for (size_t i = 0; i < pts.size(); ++i) {
    EXPECT_NEAR(ds.x.data[2 * i], pts[i].x1, 5.01e-5);
    EXPECT_NEAR(ds.x.data[2 * i + 1], pts[i].x2, 5.01e-5);
    EXPECT_EQ(ds.y.data[i], pts[i].label);
  }
}

TEST(Synthetic, Fixed4) {
  EXPECT_EQ(fixed4(0), "0.0000");
  EXPECT_EQ(fixed4(-0.00004), "0.0000"); // no "-0.0000"
  EXPECT_EQ(fixed4(-0.00006), "-0.0001");
  EXPECT_EQ(fixed4(1.23456), "1.2346");
  EXPECT_EQ(fixed4(-1.23454), "-1.2345");
  EXPECT_EQ(fixed4(-2.5), "-2.5000");
  EXPECT_EQ(fixed4(0.0305), "0.0305");
  EXPECT_EQ(fixed4(12345.6789), "12345.6789");
}
