//===- InPlaceUpdates.cpp - Updates written straight into their leaf ------===//

#include "passes/InPlaceUpdates.h"

#include "ir/Support.h"

namespace nn {

namespace {

/// Whether element i of `n`'s result depends only on element i of its
/// operands that have its shape (and on broadcast operands): the ops the
/// table (ir/Ops.def) marks elementwise, and of the fused ops the Update
/// family (optimizer steps) and fused.elementwise chains. A trait and
/// families, not a list of cases, so that a new elementwise op or fused
/// optimizer update is covered by its table row.
bool elementwiseKernel(const Node &n) {
  return hasTrait(n.op, kElementwise) || family(n.op) == OpFamily::Update ||
         family(n.op) == OpFamily::FusedElementwise;
}

} // namespace

std::vector<NodeId> inPlaceUpdates(const Graph &g) {
  std::vector<NodeId> into(g.nodes.size(), -1);
  std::vector<int> asValue(g.nodes.size(), 0);
  std::vector<bool> output(g.nodes.size(), false);
  for (const Update &u : g.updates)
    ++asValue[u.value];
  for (const Output &o : g.outputs)
    output[o.node] = true;
  for (const Update &u : g.updates) {
    const Node &v = g[u.value], &t = g[u.target];
    if (hasTrait(v.op, kLeaf) || asValue[u.value] != 1 || output[u.value] ||
        output[u.target] || !elementwiseKernel(v) || !v.type.known ||
        v.type.dims != t.type.dims || v.type.hasBatch())
      continue;
    bool readLater = false;
    for (NodeId id = u.value + 1; id < g.size() && !readLater; ++id)
      for (NodeId in : g[id].inputs)
        readLater |= in == u.target;
    if (!readLater)
      into[u.value] = u.target;
  }
  return into;
}

} // namespace nn
