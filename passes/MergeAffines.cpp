//===- MergeAffines.cpp - One channel affine where there were two ---------===//
///
/// \file
/// Algorithm: count every node's uses (nodes, outputs, updates). Copy the
/// nodes in order into a new graph; a channel_affine(y, g[, b]) whose y is
/// a channel_affine(x, s[, t]) used only there becomes, at its own place,
/// name and location,
///   s' = s * g,  t' = t * g + b       ([C] vectors; a missing t or b is 0)
///   channel_affine(x, s', t')
/// since (x * s + t) * g + b = x * (s * g) + (t * g + b). Chains merge
/// left to right: the merged node is itself a channel_affine of x, so a
/// third affine after it merges into it too. The inner affine keeps its
/// place (other passes' node numbers stay meaningful) and dce removes it.
///
//===----------------------------------------------------------------------===//

#include "passes/MergeAffines.h"
#include "passes/Builder.h"
#include "passes/DCE.h"

namespace nn {

namespace {

/// `name` + `suffix`, or "" for an unnamed node.
std::string suffixed(const std::string &name, const char *suffix) {
  return name.empty() ? "" : name + suffix;
}

/// Whether node `id` of `g` is a channel_affine whose operand 0 is a
/// channel_affine that only it uses.
bool mergesWithItsInput(const Graph &g, const std::vector<int> &uses,
                        NodeId id) {
  if (g[id].op != OpKind::ChannelAffine)
    return false;
  NodeId in = g[id].inputs[0];
  return g[in].op == OpKind::ChannelAffine && uses[in] == 1;
}

} // namespace

Graph mergeChannelAffines(const Graph &g) {
  const std::vector<int> uses = g.useCounts();
  bool any = false;
  for (NodeId id = 0; id < g.size() && !any; ++id)
    any = mergesWithItsInput(g, uses, id);
  if (!any)
    return g;

  Graph out;
  out.name = g.name;
  Builder b(out);
  std::vector<NodeId> newId(g.nodes.size(), -1);
  for (NodeId id = 0; id < g.size(); ++id) {
    Node n = g[id];
    for (NodeId &in : n.inputs)
      in = newId[in];
    if (!mergesWithItsInput(g, uses, id)) {
      newId[id] = out.add(std::move(n));
      continue;
    }
    // The inner affine as copied (or as merged itself): x, s[, t].
    const Node inner = out[n.inputs[0]];
    b.loc = n.loc;
    NodeId scale = b.binary(OpKind::Mul, inner.inputs[1], n.inputs[1],
                            suffixed(n.name, ".scale"));
    const std::string shiftName = suffixed(n.name, ".shift");
    NodeId shift = -1;
    if (inner.inputs.size() > 2 && n.inputs.size() > 2)
      shift = b.binary(OpKind::Add,
                       b.binary(OpKind::Mul, inner.inputs[2], n.inputs[1]),
                       n.inputs[2], shiftName);
    else if (inner.inputs.size() > 2)
      shift = b.binary(OpKind::Mul, inner.inputs[2], n.inputs[1], shiftName);
    else if (n.inputs.size() > 2)
      shift = n.inputs[2];
    std::vector<NodeId> ops = {inner.inputs[0], scale};
    if (shift >= 0)
      ops.push_back(shift);
    newId[id] = b.op(OpKind::ChannelAffine, ops, n.name);
  }
  for (const Output &o : g.outputs)
    out.outputs.push_back({o.name, newId[o.node]});
  for (const Update &u : g.updates)
    out.updates.push_back({newId[u.target], newId[u.value]});
  return dce(out);
}

} // namespace nn
