//===- GradCheck.h - Gradient checks by central differences ----*- C++ -*-===//
///
/// \file
/// Compares the gradients of passes/Autodiff.h, evaluated by the reference
/// interpreter, with central differences of the loss, in double.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Interpreter.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// One checked parameter element.
struct GradCheckEntry {
  std::string param;
  int64_t index; ///< flat, row-major
  double analytic, numeric;
  bool ok;
  /// The loss has a kink here (its one-sided differences disagree, as at
  /// relu(0)) and the analytic gradient lies between them: autodiff took
  /// one side, as PyTorch does (relu'(0) = 0). Counted as ok.
  bool kink = false;
  double left = 0, right = 0; ///< one-sided differences, at kinks
};

struct GradCheckReport {
  std::vector<GradCheckEntry> entries;
  int failures = 0;
  int kinks = 0; ///< elements at a non-differentiable point (see kink)
  /// Largest |numeric - analytic|, and largest |numeric - analytic| /
  /// max(|numeric|, atol) (relative where the gradient is not tiny), kinks
  /// left out. NaN or infinite differences count as +inf.
  double maxAbsErr = 0, maxRelErr = 0;
};

/// `forward` is a forward graph with output "loss" and known types.
/// Differentiates it with passes/Autodiff.h `differentiate(g, nullptr)`
/// (outputs "grad.<param>"; a param with no such output has gradient 0) and
/// compares every parameter element (or at most `maxPerParam` elements per
/// param, spread evenly from the first to the last, deterministically) with
/// (L(p + eps) - L(p - eps)) / (2 eps). An element passes when
/// |numeric - analytic| <= atol + rtol * |numeric|, or when it is at a kink:
/// the one-sided differences (L(p) - L(p - eps)) / eps and (L(p + eps) -
/// L(p)) / eps differ by more than that tolerance and the analytic gradient
/// lies between them (within it). `leaves` binds every
/// leaf, as for Interpreter::run. Throws UserError when the graph has no
/// "loss" or a leaf is missing.
GradCheckReport gradCheck(const Graph &forward, const ValueMap &leaves,
                          int maxPerParam = 50, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

/// A readable summary: one line per failing element (at most `maxLines`),
/// then "checked N elements of P params: F failures, max abs err ..., max rel
/// err ...".
std::string formatGradCheck(const GradCheckReport &r, int maxLines = 20);

} // namespace nn
