//===- AddL2.h - L2 weight penalty -----------------------------*- C++ -*-===//
///
/// \file
/// Adds lambda times the sum of squared weights to the loss.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// loss := loss + lambda * sum(w * w) over every Param with isWeight (biases
/// are left out, as in the lecture). Returns `g` unchanged when lambda == 0
/// or when there is no output "loss". Types of the new nodes are known when
/// the loss's type is.
Graph addL2(const Graph &g, double lambda);

} // namespace nn
