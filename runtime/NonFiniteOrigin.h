//===- NonFiniteOrigin.h - Why a value became NaN or infinite ---*- C++ -*-===//
///
/// \file
/// Once the first node holding NaN or infinities is known (see
/// findNonFinite in runtime/Trainer.h), a help line fitted to its origin:
/// the data, the starting weights, a loss given logits where it takes
/// probabilities, swapped loss arguments, or (when none of these) growth
/// that a smaller learning rate may cure.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

#include <string>
#include <vector>

namespace nn {

/// The help for node `id` of `g`, the first holding non-finite values when
/// the node values are `values` (one per node, as Interpreter::run returns).
std::string nonFiniteHelp(const Graph &g, NodeId id,
                          const std::vector<Value> &values);

} // namespace nn
