//===- FlopCount.h - Floating-point operation counts -----------*- C++ -*-===//
///
/// \file
/// How many floating-point operations a node performs, for GFLOP/s reports
/// and the teaching views.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// FLOPs of node `id` with the batch dimension set to `batch`. MatMul:
/// 2*m*k*n; elementwise: 1 per output element; reductions: 1 per input
/// element; the per-element constants of softmax and the losses are
/// documented in FlopCount.cpp. Leaves, Transpose, Expand and Count: 0.
/// Needs known types.
double nodeFlops(const Graph &g, NodeId id, int64_t batch);

/// The sum of nodeFlops over every node.
double graphFlops(const Graph &g, int64_t batch);

} // namespace nn
