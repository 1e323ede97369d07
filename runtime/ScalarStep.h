//===- ScalarStep.h - One training step as scalar arithmetic ---*- C++ -*-===//
///
/// \file
/// The teaching view of `nnc explain --scalar`: one training step of a small
/// model written out as scalar multiply-adds with the actual numbers, node by
/// node in the order of the fused graph (the order the generated code runs
/// its kernels). The values are the reference interpreter's (it is not a
/// third interpreter); the view writes their formulas, the text of
/// elementwise math coming from the same templates (runtime/ElementwiseText.h).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// One written-out scalar computation.
struct ScalarLine {
  enum class Section { Forward, Loss, Backward, Update };
  Section section = Section::Forward;
  /// "z[A] = x[A,1] * w[1] + x[A,2] * w[2] + b = 15 * 0.1 + 22 * 0.5 + 0.4 =
  /// 12.9".
  std::string text;
  /// The fused-graph node and flat element this line computes; node -1 for
  /// a line that is not a node's element (a per-sample loss term).
  NodeId node = -1;
  int64_t index = 0;
  double value = 0;
};

/// Limits of the scalar view: the model must be small enough to read.
struct ScalarLimits {
  int64_t maxBatch = 26;      ///< samples are lettered A..Z
  int64_t maxLines = 400;     ///< written-out scalars in the whole step
};

/// Writes out one step of `g` (a fused training graph with known types) on
/// `leaves` (the batch and every Param and State leaf, by name). Throws
/// UserError when the batch or the number of lines exceeds `limits`, or
/// when the graph holds an op this view does not write out (naming it).
std::vector<ScalarLine> scalarStep(const Graph &g, const ValueMap &leaves,
                                   const ScalarLimits &limits = {});

/// "%.6g" of `v`, as the scalar view prints numbers.
std::string scalarText(double v);

} // namespace nn
