//===- LeafChecks.h - Checking values bound to a graph's leaves -*- C++ -*-===//
///
/// \file
/// What every compiled executor checks before it runs a step: each leaf has
/// a value of its type's shape, the batch leaves agree on the batch size,
/// and class labels are ids in range. The messages point at the leaf's
/// declaration in the .nn file.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// Throws UserError "file:line:col: error: msg" at `n`'s declaration.
[[noreturn]] void leafError(const Node &n, const std::string &msg);

/// "input 'x'", "label 'y'", ...
std::string leafDesc(const Node &n);

/// `t`'s dims with the batch dimension set to `batch`.
std::vector<int64_t> concreteDims(const TensorType &t, int64_t batch);

/// The number of rows of `batch`'s Input and Label values (1 when no leaf
/// has a batch dimension); throws when one is missing or they disagree.
int64_t batchRows(const Graph &g, const TensorMap &batch);

/// Checks `t`, bound to leaf `n` at batch size `rows`: its shape and size,
/// and for class labels that every value is an id in range.
void checkLeafValue(const Node &n, const Tensor &t, int64_t rows);

/// What every executor's setState checks: `state` holds a value for each
/// Param and State leaf of `g`, of its declared shape and size. The trainer
/// builds the state from the graph, so a miss is an internal error
/// (InternalError), not the user's.
void checkStateLeaves(const Graph &g, const TensorMap &state);

/// The scalar State leaf `name` of `g`, for Executor::setScalar; another
/// name is an internal error (the trainer asks only for leaves it made).
NodeId scalarStateLeaf(const Graph &g, const std::string &name);

} // namespace nn
