//===- DCE.h - Dead code elimination ---------------------------*- C++ -*-===//
///
/// \file
/// Removes nodes that no output or update needs.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// Keeps outputs, updates, what they use, and every leaf except unused
/// Consts (input, label, param and state leaves are the graph's interface).
/// Node order is preserved.
Graph dce(const Graph &g);

} // namespace nn
