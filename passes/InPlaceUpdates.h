//===- InPlaceUpdates.h - Updates written straight into their leaf -*- C++ -*-===//
///
/// \file
/// Which update values a backend may compute directly into the buffer of
/// the Param or State leaf they update, instead of into their own buffer and
/// a copy after the step. For backends that run the kernels in node order.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace nn {

/// Per node: the leaf whose buffer the node's value may be written into, or
/// -1. A value V updating leaf T qualifies when
///  - V is a non-leaf node, the value of this update only, not an output,
///    and T is not an output either (outputs show T before the update);
///  - V has T's type, and V's kernel is elementwise (an elementwise op, a
///    fused chain, an SGD step): element i of V is computed from element i
///    of each operand of T's shape, so T[i] is read before it is written;
///  - no node after V reads T (nodes run in node order).
/// Nodes that read V afterwards read T's buffer, which then holds V.
std::vector<NodeId> inPlaceUpdates(const Graph &g);

} // namespace nn
