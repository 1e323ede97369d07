//===- KernelMap.h - Which fused kernel each IR node ended in --*- C++ -*-===//
///
/// \file
/// The teaching views show, next to each node of the unfused training graph
/// (`nnc emit --stage=opt`), the fused kernel(s) it became part of: explain
/// lists them per equation, graph draws them as clusters.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/Fuse.h"

#include <set>
#include <string>
#include <vector>

namespace nn {

class KernelMap {
public:
  /// Runs every fusion on `opt` (a graph after cse and dce), appending to
  /// `log`.
  KernelMap(const Graph &opt, FusionLog &log);

  /// The kernels (node ids of fusedGraph(), equal to opt ids) that compute
  /// or absorbed opt node `id`, in order; empty for leaves. A node folded
  /// into several kernels (an activation gradient read by the bias and the
  /// weight gradient) has several.
  std::vector<NodeId> owners(NodeId id) const;
  /// "%fc1 = fused.dense {act = relu}" for each of owners(id).
  std::vector<std::string> kernels(NodeId id) const;
  /// "%fc1 = fused.dense {act = relu}" for kernel `k`.
  std::string kernelLabel(NodeId k) const;
  /// The fused graph before its final DCE (opt's node ids).
  const Graph &fusedGraph() const { return fused; }

private:
  Graph fused;
  std::vector<std::set<NodeId>> owned;
};

} // namespace nn
