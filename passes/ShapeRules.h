//===- ShapeRules.h - The shape rule of every op (pass-internal) -*- C++ -*-===//
///
/// \file
/// One node's type from its operands' types; shared by inferShapes and by
/// the passes that create nodes (autodiff, L2), so new nodes are typed.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>

namespace nn {

/// A node's inferred type, or why it has none.
struct ShapeResult {
  TensorType type; // known == false when an operand's type is unknown
  std::string error; // empty when fine; lower case, no final period
  std::string help;  // optional: how to fix it
};

/// Applies the shape rule of `n.op` to the types of `n`'s operands in `g`.
ShapeResult inferNodeType(const Graph &g, const Node &n);

} // namespace nn
