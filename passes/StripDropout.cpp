//===- StripDropout.cpp - Evaluation graphs without dropout ---------------===//
///
/// \file
/// Algorithm: one forward walk; a dropout node is removed and its uses go
/// to its input (resolved through chains of dropouts, which come earlier).
/// Then the step and first-row leaves are removed too when no kept node
/// reads them and no update writes them. compactGraph renumbers the rest,
/// keeping order.
///
//===----------------------------------------------------------------------===//

#include "passes/StripDropout.h"
#include "passes/GraphUtil.h"
#include "passes/optim/Optimizer.h"

namespace nn {

Graph stripDropout(const Graph &g) {
  std::vector<bool> keep(g.nodes.size(), true);
  std::vector<NodeId> replace(g.nodes.size(), -1);
  bool any = false;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (g[id].op != OpKind::Dropout)
      continue;
    NodeId x = g[id].inputs[0];
    keep[id] = false;
    replace[id] = replace[x] >= 0 ? replace[x] : x;
    any = true;
  }
  if (!any)
    return g;
  for (const char *name : {kStepLeaf, kFirstRowLeaf}) {
    std::optional<NodeId> leaf = g.findLeaf(OpKind::State, name);
    if (!leaf)
      continue;
    bool used = false;
    for (NodeId id = 0; id < g.size(); ++id)
      for (NodeId in : g[id].inputs)
        used |= keep[id] && in == *leaf;
    for (const Update &u : g.updates)
      used |= u.target == *leaf || u.value == *leaf;
    keep[*leaf] = used;
  }
  return compactGraph(g, keep, replace);
}

} // namespace nn
