//===- FuseElementwise.cpp - Chains of elementwise ops --------------------===//
///
/// \file
/// Algorithm: walk the live nodes from last to first. An elementwise op not
/// yet taken is the root of a group; the group grows depth-first through
/// operands that are elementwise ops (or an expand of a scalar, which is
/// plain broadcasting) used only by the group; scalar Consts are inlined
/// as constants. Everything else the group reads becomes an operand of the
/// fused node (each distinct node once). A group of two or more ops is
/// rewritten in place at its root as `fused.elementwise` whose body is the
/// group's expression tree in post-order (arguments left to right), the
/// order the IR text prints and parses. If dropping the expands' shape
/// operands would change the result's shape, the group is rebuilt with
/// those expands left out. The log names each boundary that stopped a
/// group: an elementwise op with other users, or a reduction.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"
#include "passes/InferShapes.h"

#include "ir/Attributes.h"
#include "ir/Support.h"

#include <map>

namespace nn {

namespace {

class GroupBuilder {
public:
  GroupBuilder(const FuseContext &c, bool allowExpand)
      : cp(&c), allowExpand(allowExpand) {}

  /// Builds the body of the group rooted at `root`.
  void build(NodeId root) { visit(root, true); }

  std::vector<ExprStep> body;
  std::vector<NodeId> operands;
  std::vector<NodeId> members;
  std::vector<std::string> boundaries;

private:
  const FuseContext *cp;
  bool allowExpand;
  std::map<NodeId, int> operandIndex;

  bool scalarExpand(NodeId id) const {
    const FuseContext &c = *cp;
    return allowExpand && c.is(id, OpKind::Expand) &&
           c.type(c.g[id].inputs[0]).isScalar();
  }

  bool absorbable(NodeId id) const {
    const FuseContext &c = *cp;
    return c.uses[id] == 1 &&
           (hasTrait(c.g[id].op, kElementwise) || scalarExpand(id));
  }

  /// Appends the steps computing `id`; returns its reference.
  int visit(NodeId id, bool root) {
    const FuseContext &c = *cp;
    if (!root && c.isScalarConst(id)) {
      ExprStep s;
      s.value = c.constValue(id);
      body.push_back(s);
      return -static_cast<int>(body.size());
    }
    if (!root && !absorbable(id)) {
      noteBoundary(id);
      auto [it, inserted] =
          operandIndex.emplace(id, static_cast<int>(operands.size()));
      if (inserted)
        operands.push_back(id);
      return it->second;
    }
    members.push_back(id);
    if (scalarExpand(id))
      return visit(c.g[id].inputs[0], false);
    ExprStep s;
    s.op = c.g[id].op;
    if (hasSlope(s.op))
      s.value = c.g[id].param; // leaky_relu's slope travels with its step
    for (NodeId in : c.g[id].inputs)
      s.args.push_back(visit(in, false));
    body.push_back(std::move(s));
    return -static_cast<int>(body.size());
  }

  void noteBoundary(NodeId id) {
    const FuseContext &c = *cp;
    if (hasTrait(c.g[id].op, kElementwise))
      boundaries.push_back(c.who(id) + " has " + c.usersStr(id));
    else if (hasTrait(c.g[id].op, kReduction))
      boundaries.push_back("reduction boundary at " + c.who(id));
  }
};

/// The result dims of the group: the broadcast of its operands'.
std::optional<std::vector<int64_t>> groupDims(const FuseContext &c,
                                              const GroupBuilder &b) {
  std::vector<std::vector<int64_t>> dims;
  for (NodeId o : b.operands)
    dims.push_back(c.type(o).dims);
  BroadcastResult r = broadcastAll(dims);
  if (r.failedAt)
    return std::nullopt;
  return r.dims;
}

int opCount(const std::vector<ExprStep> &body) {
  int n = 0;
  for (const ExprStep &s : body)
    n += s.op == OpKind::Const ? 0 : 1;
  return n;
}

} // namespace

Graph fuseElementwise(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "elementwise";
  std::vector<bool> taken(g.nodes.size(), false);
  for (NodeId root = g.size() - 1; root >= 0; --root) {
    if (!c.live[root] || taken[root] || !hasTrait(g[root].op, kElementwise))
      continue;
    GroupBuilder b(c, /*allowExpand=*/true);
    b.build(root);
    if (groupDims(c, b) != c.type(root).dims) {
      b = GroupBuilder(c, /*allowExpand=*/false);
      b.build(root);
    }
    std::string bounds;
    for (size_t i = 0; i < b.boundaries.size(); ++i)
      bounds += (i ? "; " : "") + b.boundaries[i];
    if (opCount(b.body) < 2 || b.operands.empty()) {
      if (!bounds.empty())
        log.add(kName, false,
                c.who(root) + ": not fused: nothing to join (" + bounds + ")");
      continue;
    }
    NN_ASSERT(groupDims(c, b) == c.type(root).dims,
              "elementwise group changes the result's shape");
    for (NodeId m : b.members)
      taken[m] = true;
    rewriteAs(out[root], OpKind::Elementwise, b.operands);
    out[root].body = b.body;
    std::string text = c.who(root) + ": " + std::to_string(opCount(b.body)) +
                       " ops in one loop (";
    for (size_t i = 0; i < b.members.size(); ++i)
      text += (i ? ", " : "") + c.who(b.members[i]);
    text += ")";
    if (!bounds.empty())
      text += "; stops at: " + bounds;
    log.add(kName, true, text);
  }
  return out;
}

} // namespace nn
