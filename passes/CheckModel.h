//===- CheckModel.h - What a typed model must also satisfy -----*- C++ -*-===//
///
/// \file
/// Checks of a typed forward graph from a .nn file beyond the shape rules:
/// values that would mix the samples of a batch, and what training
/// (autodiff) cannot handle. `nnc check` and every later stage run them, so
/// a model that checks never fails later for these reasons.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

namespace nn {

/// Reports every problem of the typed forward graph `g` to `diags` (located
/// on the operator) and throws DiagnosedError if there was one.
void checkModel(const Graph &g, DiagEngine &diags);

} // namespace nn
