//===- FuseUtil.h - Shared pieces of the fusion passes (internal) -*- C++ -*-===//
///
/// \file
/// Liveness, use counts and users over the live nodes only (a fusion pass
/// leaves the nodes it absorbed in place, dead, until the final DCE), and
/// the node labels the fusion log uses.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// Facts about a graph that the fusion passes match against.
class FuseContext {
public:
  explicit FuseContext(const Graph &g);

  const Graph &g;
  /// Needed by an output or update (leaves other than Const always are).
  std::vector<bool> live;
  /// Uses by live nodes, outputs and updates.
  std::vector<int> uses;
  /// Live users of each node, each once per use, in node order.
  std::vector<std::vector<NodeId>> users;

  /// `%fc1.add`, or `%64 (matmul)` for a node without a unique name.
  std::string who(NodeId id) const;
  /// "2 users: %fc1 (relu), %60 (step)".
  std::string usersStr(NodeId id) const;
  /// True when `id` is a Const holding one value (inlined by fused ops).
  bool isScalarConst(NodeId id) const;
  /// The value of a scalar Const.
  double constValue(NodeId id) const { return g[id].values[0]; }
  bool is(NodeId id, OpKind k) const { return g[id].op == k; }
  const TensorType &type(NodeId id) const { return g[id].type; }

private:
  std::vector<std::string> labels;
};

/// `n` turned into fused op `op` on `inputs`, keeping its name, type and
/// location; every fused-only field reset.
void rewriteAs(Node &n, OpKind op, std::vector<NodeId> inputs);

} // namespace nn
