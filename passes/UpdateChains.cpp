//===- UpdateChains.cpp - The optimizer's updates, chained per parameter --===//
///
/// \file
/// Algorithm: chainsOf walks the nodes in order, putting each in the chain
/// of the first member it reads (a new chain when it reads none) and
/// merging the later chain into the earlier when it reads two. A gradient
/// folds when an update is its one use and its loop is flat (each operand
/// whole or one value): the update's chain then reads its operands instead.
///
//===----------------------------------------------------------------------===//

#include "passes/UpdateChains.h"

#include <algorithm>
#include <map>

namespace nn {

std::vector<std::vector<NodeId>> chainsOf(const Graph &g,
                                          const std::vector<NodeId> &nodes) {
  std::map<NodeId, size_t> chainOf;
  std::vector<std::vector<NodeId>> chains;
  for (NodeId id : nodes) {
    size_t c = chains.size();
    for (NodeId in : g[id].inputs) {
      auto it = chainOf.find(in);
      if (it == chainOf.end() || it->second == c)
        continue;
      if (c == chains.size()) {
        c = it->second;
        continue;
      }
      // Reads two chains: merge the later into the earlier.
      size_t from = std::max(c, it->second), to = std::min(c, it->second);
      for (NodeId n : chains[from]) {
        chains[to].push_back(n);
        chainOf[n] = to;
      }
      chains[from].clear();
      c = to;
    }
    if (c == chains.size())
      chains.emplace_back();
    chains[c].push_back(id);
    chainOf[id] = c;
  }
  std::vector<std::vector<NodeId>> out;
  for (std::vector<NodeId> &c : chains)
    if (!c.empty()) {
      std::sort(c.begin(), c.end());
      out.push_back(std::move(c));
    }
  return out;
}

NodeId foldedInto(const Graph &g, NodeId id) {
  for (NodeId u = id + 1; u < g.size(); ++u)
    if (std::find(g[u].inputs.begin(), g[u].inputs.end(), id) !=
        g[u].inputs.end())
      return u;
  return -1;
}

/// Whether `op` is an op a folded gradient may be.
static bool isFoldableOp(OpKind op) {
  if (family(op) == OpFamily::FusedElementwise)
    return true;
  if (family(op) != OpFamily::Elementwise)
    return false;
  ElementwiseOp e = member<ElementwiseOp>(op);
  return e == ElementwiseOp::Add || e == ElementwiseOp::Sub ||
         e == ElementwiseOp::Mul;
}

bool isFoldedGradient(const Graph &g, NodeId id,
                      const std::vector<int> &uses) {
  const Node &n = g[id];
  if (!isFoldableOp(n.op) || uses[static_cast<size_t>(id)] < 1)
    return false;
  // Every use an update of its shape (Adam's moment and variance both).
  int read = 0;
  for (NodeId u = id + 1; u < g.size(); ++u) {
    long k = std::count(g[u].inputs.begin(), g[u].inputs.end(), id);
    if (k == 0)
      continue;
    if (k != 1 || family(g[u].op) != OpFamily::Update ||
        g[u].type.dims != n.type.dims)
      return false;
    ++read;
  }
  if (read != uses[static_cast<size_t>(id)])
    return false;
  return std::all_of(n.inputs.begin(), n.inputs.end(), [&](NodeId in) {
    return g[in].type.dims == n.type.dims || g[in].type.isScalar();
  });
}

/// Whether `g` went through a fusion (has an op of a fused family): an
/// unfused graph keeps one kernel per op.
static bool hasFusedOps(const Graph &g) {
  return std::any_of(g.nodes.begin(), g.nodes.end(),
                     [](const Node &n) { return hasTrait(n.op, kFused); });
}

/// Whether elementwise op `op` is exact arithmetic: its vector and scalar
/// code give the same bits.
static bool isArithmetic(OpKind op) {
  if (op == OpKind::Const)
    return true;
  if (family(op) != OpFamily::Elementwise)
    return false;
  ElementwiseOp e = member<ElementwiseOp>(op);
  return e == ElementwiseOp::Add || e == ElementwiseOp::Sub ||
         e == ElementwiseOp::Mul || e == ElementwiseOp::Div ||
         e == ElementwiseOp::Neg;
}

bool isFoldedIntoSum(const Graph &g, NodeId id, const std::vector<int> &uses) {
  const Node &n = g[id];
  bool arithmetic =
      family(n.op) == OpFamily::FusedElementwise
          ? std::all_of(n.body.begin(), n.body.end(),
                        [](const ExprStep &s) { return isArithmetic(s.op); })
          : n.op != OpKind::Const && isArithmetic(n.op);
  if (!arithmetic || uses[static_cast<size_t>(id)] != 1 ||
      n.type.isScalar() || !hasFusedOps(g))
    return false;
  NodeId r = foldedInto(g, id);
  if (r < 0 || (g[r].op != OpKind::Sum && g[r].op != OpKind::Mean) ||
      g[r].axis != -1 || g[r].inputs.size() != 1)
    return false;
  return std::all_of(n.inputs.begin(), n.inputs.end(), [&](NodeId in) {
    return g[in].type.dims == n.type.dims || g[in].type.isScalar();
  });
}

std::vector<NodeId> updateChainNodes(const Graph &g, bool fold) {
  std::vector<int> uses = fold ? g.useCounts() : std::vector<int>();
  std::vector<NodeId> out;
  for (NodeId id = 0; id < g.size(); ++id)
    if (family(g[id].op) == OpFamily::Update ||
        (fold && isFoldedGradient(g, id, uses)))
      out.push_back(id);
  return out;
}

bool sameShape(const Graph &g, const std::vector<NodeId> &chain) {
  const TensorType &t = g[chain.back()].type;
  return std::all_of(chain.begin(), chain.end(),
                     [&](NodeId id) { return g[id].type.dims == t.dims; });
}

bool isHoistedOperand(const Graph &g, const Node &n, size_t t) {
  bool scalar = g[n.inputs[t]].type.isScalar() && !n.type.isScalar();
  if (family(n.op) == OpFamily::Update)
    return scalar || t + 1 == n.inputs.size();
  return scalar;
}

} // namespace nn
