//===- StableLosses.h - Losses on probabilities to logits ------*- C++ -*-===//
///
/// \file
/// Rewrites losses written on probabilities into their numerically stable
/// forms on logits.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// bce(sigmoid(z), y) -> bce_logits(z, y); cross_entropy(softmax(z), y) ->
/// softmax_cross_entropy(z, y). The sigmoid/softmax stays while something
/// else (an output such as "pred") uses it.
Graph stableLosses(const Graph &g);

} // namespace nn
