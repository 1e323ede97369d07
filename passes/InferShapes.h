//===- InferShapes.h - Shape and dtype inference ---------------*- C++ -*-===//
///
/// \file
/// Gives every node its TensorType from its operands' types; reports shape
/// mismatches at the node's location.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <optional>
#include <vector>

namespace nn {

/// Returns `g` with every node's type known. Leaves keep their declared
/// types. Reports each mismatch as an error at the node's loc (with notes at
/// the operands' locs) and throws DiagnosedError if there was any.
Graph inferShapes(const Graph &g, DiagEngine &diags);

/// The numpy-style broadcast of two dims lists (trailing dimensions match
/// when equal or when one is 1; N matches only N or 1); nullopt when they do
/// not broadcast.
std::optional<std::vector<int64_t>>
broadcastDims(const std::vector<int64_t> &a, const std::vector<int64_t> &b);

/// broadcastDims folded over several dims lists, left to right, from a
/// scalar: `dims` is their broadcast; or, when list `failedAt` does not
/// broadcast with those before it, `dims` is the broadcast of those before.
struct BroadcastResult {
  std::vector<int64_t> dims;
  std::optional<size_t> failedAt;
};
BroadcastResult broadcastAll(const std::vector<std::vector<int64_t>> &lists);

} // namespace nn
