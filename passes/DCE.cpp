//===- DCE.cpp - Dead code elimination ------------------------------------===//
///
/// \file
/// Algorithm: mark what outputs and updates use (values and targets) and
/// every leaf but Consts, then walk backwards marking the operands of marked
/// nodes; keep the marked nodes in their order.
///
//===----------------------------------------------------------------------===//

#include "passes/DCE.h"
#include "passes/GraphUtil.h"

namespace nn {

Graph dce(const Graph &g) {
  std::vector<bool> live(g.nodes.size(), false);
  for (NodeId i = 0; i < g.size(); ++i)
    live[i] = hasTrait(g[i].op, kLeaf) && g[i].op != OpKind::Const;
  for (const Output &o : g.outputs)
    live[o.node] = true;
  for (const Update &u : g.updates)
    live[u.target] = live[u.value] = true;
  for (NodeId i = g.size() - 1; i >= 0; --i)
    if (live[i])
      for (NodeId in : g[i].inputs)
        live[in] = true;
  return compactGraph(g, live, std::vector<NodeId>(g.nodes.size(), -1));
}

} // namespace nn
