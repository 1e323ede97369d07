//===- GraphUtil.cpp - Small graph helpers --------------------------------===//
///
/// \file
/// Algorithm: one forward walk assigns new ids to kept nodes and resolves
/// replaced ones to their replacement's new id; uses, outputs and updates are
/// rewritten through that table.
///
//===----------------------------------------------------------------------===//

#include "passes/GraphUtil.h"

#include "ir/Support.h"

namespace nn {

Graph compactGraph(const Graph &g, const std::vector<bool> &keep,
                   const std::vector<NodeId> &replace) {
  std::vector<NodeId> newId(g.nodes.size(), -1);
  Graph out;
  out.name = g.name;
  for (NodeId i = 0; i < g.size(); ++i) {
    if (replace[i] >= 0) {
      NN_ASSERT(replace[i] < i, "replacement must come first");
      newId[i] = newId[replace[i]];
      continue;
    }
    if (!keep[i])
      continue;
    Node n = g[i];
    for (NodeId &in : n.inputs) {
      NN_ASSERT(newId[in] >= 0, "kept node uses a removed node");
      in = newId[in];
    }
    newId[i] = out.add(std::move(n));
  }
  for (Output o : g.outputs) {
    NN_ASSERT(newId[o.node] >= 0, "output of a removed node");
    out.outputs.push_back({o.name, newId[o.node]});
  }
  for (Update u : g.updates) {
    NN_ASSERT(newId[u.target] >= 0 && newId[u.value] >= 0,
              "update of a removed node");
    out.updates.push_back({newId[u.target], newId[u.value]});
  }
  return out;
}

std::vector<bool> differentiatedNodes(const Graph &g, NodeId loss,
                                      NodeId count) {
  std::vector<bool> fromParam(count, false), toLoss(count, false);
  for (NodeId i = 0; i < count; ++i) {
    fromParam[i] = g[i].op == OpKind::Param && !g[i].buffer;
    for (NodeId in : g[i].inputs)
      fromParam[i] = fromParam[i] || fromParam[in];
  }
  toLoss[loss] = true;
  for (NodeId i = loss; i >= 0; --i)
    if (toLoss[i])
      for (NodeId in : g[i].inputs)
        toLoss[in] = true;
  std::vector<bool> marked(count, false);
  for (NodeId i = 0; i < count; ++i)
    marked[i] = fromParam[i] && toLoss[i];
  return marked;
}

std::vector<bool> stateOnlyNodes(const Graph &g) {
  std::vector<bool> fromState(g.size(), false);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    bool any = false, only = !hasTrait(n.op, kLeaf);
    for (NodeId in : n.inputs)
      if (g[in].op != OpKind::Const) {
        any = any || fromState[in];
        only = only && fromState[in];
      }
    fromState[id] = n.op == OpKind::State || (only && any);
  }
  return fromState;
}

} // namespace nn
