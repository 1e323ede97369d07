//===- StripDropout.h - Evaluation graphs without dropout ------*- C++ -*-===//
///
/// \file
/// Dropout is identity at evaluation (as nn.Dropout in eval mode): the
/// graphs of validation, test, `eval`, `predict`, `explain` and the compiled
/// forward entry run without it.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// `g` with every dropout replaced by its input, and without the leaves
/// "optimizer.step" and "optimizer.first_row" when nothing reads or
/// updates them any more. A graph without dropout comes back unchanged.
Graph stripDropout(const Graph &g);

} // namespace nn
