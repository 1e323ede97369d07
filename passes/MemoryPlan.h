//===- MemoryPlan.h - One arena for every intermediate ---------*- C++ -*-===//
///
/// \file
/// Lays out the buffers of a graph's non-leaf nodes in one arena, reusing the
/// space of values that are dead by liveness over the topological order.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// Buffers in the arena start at multiples of this many bytes.
constexpr int64_t kArenaAlign = 64;

/// Where each node's value lives in one arena, for a graph run at batch sizes
/// up to `maxBatch`.
struct MemoryPlan {
  int64_t maxBatch = 0;
  /// A multiple of kArenaAlign.
  int64_t arenaBytes = 0;
  /// Per node: byte offset in the arena (a multiple of kArenaAlign), or -1
  /// when the node has no arena buffer.
  std::vector<int64_t> offset;
  /// Per node: its size in bytes at maxBatch (0 when not in the arena).
  std::vector<int64_t> bytes;
};

/// The steps of the topological order during which a node's value is live,
/// both ends included: from its definition to its last use. Outputs and
/// update values live to the end (`last == g.size()`).
struct LiveRange {
  NodeId first = 0;
  NodeId last = 0;
};

/// Live ranges of every node of `g` (leaves included, for printing).
std::vector<LiveRange> liveRanges(const Graph &g);

/// True when node `id` gets a buffer in the arena: every non-leaf node.
/// Leaves (inputs, labels, params, state, consts) live outside the arena:
/// the executor binds the first four, the emitter inlines consts.
bool inArena(const Graph &g, NodeId id);

/// Every non-leaf node gets a buffer; buffers whose live ranges do not
/// overlap share space (best fit among freed blocks, adjacent free blocks
/// merged). A node's buffer never overlaps its operands' buffers, so a
/// kernel may read its inputs while writing its result. Leaves live outside
/// the arena, bound by the executor. Outputs and update values stay live to
/// the end. Types must be known; `maxBatch` >= 1.
MemoryPlan planMemory(const Graph &g, int64_t maxBatch);

/// The plan as text for `nnc emit --stage=memplan`: the arena size, then one
/// line per node (offset, bytes, live range, type), then the total of all
/// buffers and the saving from reuse.
std::string printMemoryPlan(const Graph &g, const MemoryPlan &plan);

} // namespace nn
