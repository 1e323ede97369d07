//===- Autodiff.cpp - Reverse-mode differentiation ------------------------===//
///
/// \file
/// Algorithm: mark the nodes that lie on a path from a Param to the output
/// "loss". Seed d.loss = 1, then walk the forward nodes in reverse order;
/// each marked node sums the gradient contributions its users left for it
/// (one Add per extra use) and applies its family's gradient rule
/// (passes/grad/<Family>Grad.cpp) to leave contributions for its own marked
/// operands. Finally expose each parameter's gradient as an output
/// "grad.<param>"; the optimizer pass (passes/optim/) turns them into
/// updates.
///
//===----------------------------------------------------------------------===//

#include "passes/Autodiff.h"
#include "passes/GraphUtil.h"
#include "passes/grad/GradContext.h"
#include "passes/optim/Optimizer.h"

#include "ir/Support.h"

namespace nn {

namespace {

/// The name of the gradient of node `n`, or "" when `n` has no name.
std::string gradName(const Node &n) {
  return n.name.empty() ? "" : "d." + n.name;
}

/// The sum of the contributions left for forward node `id`, named after it
/// unless the sum is shared with another node.
NodeId sumContributions(GradContext &c, NodeId id, NodeId numForward) {
  const std::vector<NodeId> &cs = c.contributions(id);
  NN_ASSERT(!cs.empty(), "marked node without gradient");
  c.b.loc = c.g[id].loc;
  NodeId sum = cs[0];
  for (size_t i = 1; i < cs.size(); ++i)
    sum = c.binary(OpKind::Add, sum, cs[i]);
  Node &s = c.g[sum];
  if (sum >= numForward && s.name.empty())
    s.name = gradName(c.g[id]);
  return sum;
}

/// Applies the gradient rule of node `id`'s family.
void applyRule(GradContext &c, NodeId id, NodeId dy) {
  c.b.loc = c.g[id].loc;
  const OpKind op = c.g[id].op;
  switch (family(op)) {
  case OpFamily::Leaf: // leaves end the walk
    return;
  case OpFamily::Elementwise:
    return elementwiseGrad(c, id, dy);
  case OpFamily::Linalg:
    return linalgGrad(c, id, dy);
  case OpFamily::Reduce:
    return reduceGrad(c, id, dy);
  case OpFamily::Rows:
    return rowsGrad(c, id, dy);
  case OpFamily::Loss:
    return lossGrad(c, id, dy);
  case OpFamily::Random:
    return randomGrad(c, id, dy);
  case OpFamily::Spatial:
    return spatialGrad(c, id, dy);
  // Fusion runs after autodiff: fused ops never need a gradient rule.
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise: {
    // Only an IR file given by hand can hold one before autodiff.
    const SrcLoc &l = c.g[id].loc;
    throw UserError((l.valid() ? l.str() + ": " : std::string()) +
                    "error: '" + mnemonic(op) +
                    "' is a fused op, which autodiff does not differentiate "
                    "(fusion runs after it)\nnnc: help: give the unfused "
                    "graph, as `nnc emit --stage=opt` writes it");
  }
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// The output "loss", checked to be a scalar.
NodeId lossNode(const Graph &g) {
  std::optional<NodeId> loss = g.output("loss");
  if (!loss)
    throw UserError("error: the graph has no output 'loss' to differentiate");
  const TensorType &t = g[*loss].type;
  if (!t.known || !t.isScalar()) {
    const SrcLoc &l = g[*loss].loc;
    throw UserError((l.valid() ? l.str() + ": " : std::string()) +
                    "error: the loss must be a scalar, got " + t.str());
  }
  return *loss;
}

void differentiateInPlace(Graph &g) {
  const NodeId loss = lossNode(g), numForward = g.size();
  GradContext c(g, differentiatedNodes(g, loss, numForward));
  c.b.loc = g[loss].loc;
  std::string seedName = g[loss].name.empty() ? "d.loss" : gradName(g[loss]);
  NodeId seed = c.b.constant(1.0, seedName); // dL/dL = 1
  std::map<NodeId, NodeId> grads;
  for (NodeId id = loss; id >= 0; --id) {
    if (!c.wants(id) || (id != loss && c.contributions(id).empty()))
      continue;
    NodeId dy = id == loss ? seed : sumContributions(c, id, numForward);
    grads[id] = dy;
    applyRule(c, id, dy);
  }
  for (NodeId p : g.leaves(OpKind::Param))
    if (p < numForward && grads.count(p))
      g.outputs.push_back({"grad." + g[p].name, grads[p]});
}

} // namespace

Graph differentiate(const Graph &g, const OptimizerSpec *opt) {
  Graph out = g;
  differentiateInPlace(out);
  return opt ? applyOptimizer(out, *opt) : out;
}

} // namespace nn
