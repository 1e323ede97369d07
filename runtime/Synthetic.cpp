//===- Synthetic.cpp - 2-D toy data sets in the Playground's spirit -------===//
///
/// \file
/// Algorithm: row i has label 1 when i is even, 0 when odd, and is the k-th
/// point (k = i / 2) of its label's shape; one Rng stream, read in row order,
/// gives every random number. TensorFlow Playground's dataset.ts is the
/// model for the shapes:
///   circles   label 1: radius uniform in [0, 2.5]; label 0: radius uniform
///             in [3.5, 5]; the angle uniform in [0, 2 pi).
///   spirals   point k of n on spiral `label`: radius 5 k / n, angle
///             1.75 turns x k / n, plus pi for label 0; no randomness
///             before the noise.
///   gaussians label 1 around (2, 2), label 0 around (-2, -2), standard
///             deviation 1 in each coordinate.
///   xor       |x1| and |x2| uniform in [0.3, 5.3]; label 1 in the quadrants
///             where x1 * x2 > 0 (the sign drawn at random), label 0 in the
///             other two.
/// Then each coordinate moves by noise x uniform(-1, 1): two draws per point
/// even when the noise is 0, so a noise level only moves the points of the
/// same seed and never changes where they started.
///
//===----------------------------------------------------------------------===//
#include "runtime/Synthetic.h"

#include "ir/Support.h"
#include "runtime/Rng.h"

#include <cmath>
#include <cstdlib>
#include <numbers>

namespace nn {

namespace {

constexpr const char *kNames[] = {"circles", "spirals", "gaussians", "xor"};
constexpr double kTwoPi = 2 * std::numbers::pi;

SyntheticPoint polar(double r, double angle, int label) {
  return {r * std::sin(angle), r * std::cos(angle), label};
}

SyntheticPoint circlesPoint(Rng &rng, int label) {
  double r = label ? rng.uniform(0, kDiscRadius)
                   : rng.uniform(kRingInner, kRingOuter);
  return polar(r, rng.uniform(0, kTwoPi), label);
}

SyntheticPoint spiralsPoint(int64_t k, int64_t n, int label) {
  double t = static_cast<double>(k) / static_cast<double>(n);
  double turn = label ? 0 : std::numbers::pi;
  return polar(kSpiralRadius * t, kSpiralTurns * kTwoPi * t + turn, label);
}

SyntheticPoint gaussiansPoint(Rng &rng, int label) {
  double c = label ? kGaussCentre : -kGaussCentre;
  double x1 = rng.normal(c, kGaussStd);
  double x2 = rng.normal(c, kGaussStd);
  return {x1, x2, label};
}

SyntheticPoint xorPoint(Rng &rng, int label) {
  double s1 = rng.below(2) ? 1.0 : -1.0;
  double s2 = label ? s1 : -s1;
  double a1 = kXorPadding + rng.uniform(0, kXorExtent);
  double a2 = kXorPadding + rng.uniform(0, kXorExtent);
  return {s1 * a1, s2 * a2, label};
}

} // namespace

std::optional<SyntheticKind> syntheticKindNamed(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (name == kNames[i])
      return static_cast<SyntheticKind>(i);
  return std::nullopt;
}

std::vector<std::string> syntheticKindNames() {
  return {std::begin(kNames), std::end(kNames)};
}

std::vector<SyntheticPoint> makeSynthetic(SyntheticKind kind,
                                          const SyntheticOptions &o) {
  NN_ASSERT(o.samples >= 1 && o.noise >= 0, "bad synthetic data options");
  Rng rng(o.seed);
  std::vector<SyntheticPoint> points;
  points.reserve(static_cast<size_t>(o.samples));
  for (int64_t i = 0; i < o.samples; ++i) {
    int label = i % 2 == 0 ? 1 : 0;
    int64_t perLabel = label ? (o.samples + 1) / 2 : o.samples / 2;
    SyntheticPoint p;
    switch (kind) {
    case SyntheticKind::Circles:
      p = circlesPoint(rng, label);
      break;
    case SyntheticKind::Spirals:
      p = spiralsPoint(i / 2, perLabel, label);
      break;
    case SyntheticKind::Gaussians:
      p = gaussiansPoint(rng, label);
      break;
    case SyntheticKind::Xor:
      p = xorPoint(rng, label);
      break;
    }
    p.x1 += o.noise * rng.uniform(-1, 1);
    p.x2 += o.noise * rng.uniform(-1, 1);
    points.push_back(p);
  }
  return points;
}

std::string fixed4(double v) {
  NN_ASSERT(std::isfinite(v) && std::fabs(v) < 1e12,
            "fixed4 needs a moderate finite value");
  long long q = std::llround(v * 10000);
  std::string out = q < 0 ? "-" : "";
  long long a = std::llabs(q);
  std::string frac = std::to_string(a % 10000);
  out += std::to_string(a / 10000) + "." + std::string(4 - frac.size(), '0');
  return out + frac;
}

std::string syntheticCsv(const std::vector<SyntheticPoint> &points) {
  std::string out = "x1,x2,y\n";
  out.reserve(points.size() * 18 + out.size());
  for (const SyntheticPoint &p : points)
    out += fixed4(p.x1) + "," + fixed4(p.x2) + "," +
           (p.label ? "1" : "0") + "\n";
  return out;
}

} // namespace nn
