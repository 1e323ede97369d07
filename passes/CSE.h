//===- CSE.h - Common subexpression elimination ----------------*- C++ -*-===//
///
/// \file
/// Merges nodes that compute the same value.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// Merges every non-leaf node with an earlier node of the same op, operands
/// and attributes (and equal Const leaves); uses, outputs and updates move to
/// the survivor. Named leaves (inputs, labels, params, state) never merge.
Graph cse(const Graph &g);

} // namespace nn
