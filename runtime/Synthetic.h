//===- Synthetic.h - 2-D data sets in the Playground's spirit ---*- C++ -*-===//
///
/// \file
/// The four data sets of TensorFlow Playground, made from a seed: circles (a
/// disc inside a ring), spirals (two interleaved spirals), gaussians (two
/// clusters) and xor (four quadrants labelled by the sign of x1 * x2). Each
/// point has two coordinates in about [-6, 6] and a label 0 or 1; rows
/// alternate between the labels (1, 0, 1, 0, ...), so any prefix of the data,
/// a validation split included, holds both labels in equal numbers.
///
/// The numbers come from runtime/Rng (integer arithmetic), and the CSV text
/// rounds every coordinate to 4 decimals with integer arithmetic: the same
/// flags give the same bytes on every host.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

enum class SyntheticKind { Circles, Spirals, Gaussians, Xor };

/// "circles", "spirals", "gaussians", "xor": the kind of that name.
std::optional<SyntheticKind> syntheticKindNamed(std::string_view name);
/// The names, in the order above.
std::vector<std::string> syntheticKindNames();

/// One point of a data set.
struct SyntheticPoint {
  double x1 = 0;
  double x2 = 0;
  int label = 0; ///< 0 or 1
};

/// The flags of `nnc data`.
struct SyntheticOptions {
  int64_t samples = 400;
  /// Each coordinate moves by a uniform amount in [-noise, noise] after the
  /// point is placed; its label stays the one it was generated with.
  double noise = 0;
  uint64_t seed = 1;
};

/// The geometry, in the plane's units.
constexpr double kDiscRadius = 2.5;    ///< circles: label 1 within it
constexpr double kRingInner = 3.5;     ///< circles: label 0 from here
constexpr double kRingOuter = 5.0;     ///< ... to here
constexpr double kSpiralRadius = 5.0;  ///< spirals end at this radius
constexpr double kSpiralTurns = 1.75;  ///< ... after this many turns
constexpr double kGaussCentre = 2.0;   ///< gaussians at (2, 2) and (-2, -2)
constexpr double kGaussStd = 1.0;      ///< ... with this standard deviation
constexpr double kXorExtent = 5.0;     ///< xor: |x| in [pad, pad + 5]
constexpr double kXorPadding = 0.3;    ///< ... away from the axes

/// `o.samples` points of `kind` (o.samples >= 1, o.noise >= 0).
std::vector<SyntheticPoint> makeSynthetic(SyntheticKind kind,
                                          const SyntheticOptions &o);

/// The points as CSV text: "x1,x2,y" and one row per point, coordinates
/// with 4 decimals ("-0.0000" written "0.0000"), labels 0 or 1.
std::string syntheticCsv(const std::vector<SyntheticPoint> &points);

/// `v` rounded to 4 decimals, written without printf (no locale, no
/// platform differences): "-1.2346", "0.0000".
std::string fixed4(double v);

} // namespace nn
