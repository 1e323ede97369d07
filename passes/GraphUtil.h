//===- GraphUtil.h - Small graph helpers (pass-internal) -------*- C++ -*-===//
///
/// \file
/// Removing nodes while keeping order and renumbering uses, outputs and
/// updates.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace nn {

/// `g` without the nodes whose `keep` entry is false. `replace[i]`, when
/// not -1, names the node that takes the place of node i in every use,
/// output and update (it must come before i). Kept nodes must not use a
/// removed node that has no replacement.
Graph compactGraph(const Graph &g, const std::vector<bool> &keep,
                   const std::vector<NodeId> &replace);

/// The nodes among the first `count` of `g` that autodiff differentiates:
/// those fed (through any path) by a Param and read (through any path) by
/// node `loss`. Autodiff and check-model must agree on them.
std::vector<bool> differentiatedNodes(const Graph &g, NodeId loss,
                                      NodeId count);

/// The nodes computed from State leaves (and constants) alone, and the
/// State leaves themselves: the optimizer's per-step scalars, such as
/// Adam's bias corrections from the step count. The teaching views list
/// them with the update.
std::vector<bool> stateOnlyNodes(const Graph &g);

} // namespace nn
