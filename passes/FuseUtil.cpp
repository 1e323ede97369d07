//===- FuseUtil.cpp - Shared pieces of the fusion passes ------------------===//
///
/// \file
/// Algorithm: liveness by one backward walk from outputs and updates; use
/// counts and user lists from the live nodes only; labels by the printer's
/// rule (a unique identifier name, else the node's index).
///
//===----------------------------------------------------------------------===//

#include "passes/FuseUtil.h"

#include "ir/IRText.h"

#include <map>

namespace nn {

FuseContext::FuseContext(const Graph &graph)
    : g(graph), live(graph.nodes.size(), false),
      uses(graph.nodes.size(), 0), users(graph.nodes.size()) {
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
  for (NodeId i = 0; i < g.size(); ++i)
    if (live[i])
      for (NodeId in : g[i].inputs) {
        ++uses[in];
        users[in].push_back(i);
      }
  for (const Output &o : g.outputs)
    ++uses[o.node];
  for (const Update &u : g.updates)
    ++uses[u.value];

  std::map<std::string, int> names;
  for (const Node &n : g.nodes)
    ++names[n.name];
  for (NodeId i = 0; i < g.size(); ++i) {
    const std::string &name = g[i].name;
    labels.push_back(isIRIdentifier(name) && names[name] == 1
                         ? name
                         : std::to_string(i));
  }
}

std::string FuseContext::who(NodeId id) const {
  std::string s = "%" + labels[id];
  if (labels[id] != g[id].name || g[id].name.empty())
    s += std::string(" (") + mnemonic(g[id].op) + ")";
  return s;
}

std::string FuseContext::usersStr(NodeId id) const {
  std::string s = std::to_string(uses[id]) +
                  (uses[id] == 1 ? " use: " : " uses: ");
  bool first = true;
  for (NodeId u : users[id]) {
    s += (first ? "" : ", ") + who(u);
    first = false;
  }
  for (const Output &o : g.outputs)
    if (o.node == id) {
      s += (first ? "output '" : ", output '") + o.name + "'";
      first = false;
    }
  for (const Update &u : g.updates)
    if (u.value == id) {
      s += (first ? "update of " : ", update of ") + who(u.target);
      first = false;
    }
  return s;
}

bool FuseContext::isScalarConst(NodeId id) const {
  const Node &n = g[id];
  return n.op == OpKind::Const && n.values.size() == 1 &&
         (!n.type.known || n.type.isScalar());
}

void rewriteAs(Node &n, OpKind op, std::vector<NodeId> inputs) {
  n.op = op;
  n.inputs = std::move(inputs);
  n.axis = -1;
  n.classes = 0;
  n.act = Activation::None;
  n.transA = n.transB = false;
  n.body.clear();
}

} // namespace nn
