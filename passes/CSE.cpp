//===- CSE.cpp - Common subexpression elimination -------------------------===//
///
/// \file
/// Algorithm: value numbering in one forward walk. Each node's key is its
/// op, its operands (already replaced by their survivors; sorted for add and
/// mul, which commute), every attribute (attributeTexts, the printer's list:
/// act, transA/transB and a fused body included), its values bit for bit
/// and its type; a node whose key was
/// seen is replaced by the first node with that key. Input, label, param and
/// state leaves are the graph's interface and never merge; Consts merge when
/// value, type and name agree. A survivor without a name takes the name of
/// the first duplicate that has one.
///
//===----------------------------------------------------------------------===//

#include "passes/CSE.h"
#include "ir/Printer.h"
#include "passes/GraphUtil.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace nn {

namespace {

std::string bits(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return std::to_string(u);
}

std::string keyOf(const Node &n, const std::vector<NodeId> &ins) {
  std::vector<NodeId> operands = ins;
  if (n.op == OpKind::Add || n.op == OpKind::Mul)
    std::sort(operands.begin(), operands.end());
  std::string k = std::to_string(static_cast<int>(n.op)) + "|";
  for (NodeId in : operands)
    k += std::to_string(in) + ",";
  // Every attribute, as the printer lists them (act, transA, body, ...).
  for (const std::string &a : attributeTexts(n))
    k += "|" + a;
  k += "|";
  for (double v : n.values)
    k += bits(v) + ",";
  k += "|" + n.type.str();
  if (n.op == OpKind::Const)
    k += "|" + n.name;
  return k;
}

} // namespace

Graph cse(const Graph &g) {
  Graph work = g;
  std::vector<NodeId> replace(g.nodes.size(), -1);
  std::map<std::string, NodeId> seen;
  auto resolve = [&](NodeId id) { return replace[id] >= 0 ? replace[id] : id; };
  for (NodeId i = 0; i < work.size(); ++i) {
    Node &n = work[i];
    for (NodeId &in : n.inputs)
      in = resolve(in);
    if (hasTrait(n.op, kLeaf) && n.op != OpKind::Const)
      continue;
    auto [it, inserted] = seen.emplace(keyOf(n, n.inputs), i);
    if (inserted)
      continue;
    replace[i] = it->second;
    if (work[it->second].name.empty())
      work[it->second].name = n.name;
  }
  return compactGraph(work, std::vector<bool>(g.nodes.size(), true), replace);
}

} // namespace nn
