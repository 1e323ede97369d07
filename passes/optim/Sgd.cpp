//===- Sgd.cpp - Stochastic gradient descent ------------------------------===//
///
/// \file
/// PyTorch's SGD: with momentum mu != 0 each parameter w has a state leaf v
/// ("optimizer.<w>.momentum", zero at first) and
///   v' = mu * v + g,   w' = w - lr * v'
/// and without momentum w' = w - lr * g. The scalars lr and momentum are
/// Consts shared by every parameter. The matchers below recognise these
/// forms for passes/FuseSgd.cpp, which turns them into the fused.sgd_momentum
/// and fused.sgd ops of ir/Ops.def. Operand orders of the commutative add
/// and mul are accepted either way (IEEE add and multiply commute exactly).
///
//===----------------------------------------------------------------------===//

#include "passes/FuseUtil.h"
#include "passes/optim/Optimizer.h"

namespace nn {

void addSgdUpdates(OptimizerContext &c) {
  const OptimizerSpec &opt = c.spec;
  NodeId lr = -1, mu = -1;
  for (auto [p, grad] : c.params) {
    c.b.loc = c.g[p].loc;
    if (lr < 0) {
      lr = c.lr();
      if (opt.momentum != 0)
        mu = c.b.constant(opt.momentum, "momentum");
    }
    NodeId step = grad;
    if (opt.momentum != 0) {
      // v' = momentum * v + g
      NodeId v = c.stateLeaf(p, "momentum");
      step = c.b.binary(OpKind::Add, c.b.binary(OpKind::Mul, mu, v), grad,
                        "new." + c.g[v].name);
      c.update(v, step);
    }
    // w' = w - lr * step
    NodeId w = c.b.binary(OpKind::Sub, p, c.b.binary(OpKind::Mul, lr, step),
                          "new." + c.g[p].name);
    c.update(p, w);
  }
}

namespace {

/// For `mul(k, v)` or `mul(v, k)` with k a scalar and v not: {k, v}.
std::pair<NodeId, NodeId> scaled(const FuseContext &c, NodeId m) {
  if (!c.is(m, OpKind::Mul))
    return {-1, -1};
  NodeId a = c.g[m].inputs[0], b = c.g[m].inputs[1];
  if (c.type(a).isScalar() && !c.type(b).isScalar())
    return {a, b};
  if (c.type(b).isScalar() && !c.type(a).isScalar())
    return {b, a};
  if (c.type(a).isScalar() && c.type(b).isScalar())
    return {a, b}; // a scalar parameter: the update writes mul(lr, step)
  return {-1, -1};
}

} // namespace

/// w - lr * s with w the target Param: fused.sgd w, s, lr.
UpdateMatch matchSgdStep(const FuseContext &c, const Update &u) {
  UpdateMatch r;
  NodeId t = u.target;
  const Node &n = c.g[u.value];
  r.applies = c.is(t, OpKind::Param);
  if (!r.applies)
    return r;
  auto [lr, s] = n.op == OpKind::Sub && n.inputs[0] == t
                     ? scaled(c, n.inputs[1])
                     : std::pair<NodeId, NodeId>{-1, -1};
  if (lr < 0)
    r.why = "not of the form w - lr * step";
  else if (c.uses[n.inputs[1]] != 1)
    r.why =
        "lr * step " + c.who(n.inputs[1]) + " has " + c.usersStr(n.inputs[1]);
  else if (c.type(s).dims != c.type(t).dims)
    r.why = "shape: the step " + c.type(s).str() + " is broadcast";
  else {
    r.operands = {t, s, lr};
    r.text = c.who(t) + " - " + c.who(lr) + " * " + c.who(s);
  }
  return r;
}

/// mu * v + g with v the target state: fused.sgd_momentum v, g, mu.
UpdateMatch matchSgdMomentum(const FuseContext &c, const Update &u) {
  UpdateMatch r;
  NodeId t = u.target;
  const Node &n = c.g[u.value];
  r.applies = !c.is(t, OpKind::Param);
  if (!r.applies)
    return r;
  NodeId m = -1, grad = -1;
  if (n.op == OpKind::Add)
    for (int k = 0; k < 2 && m < 0; ++k) {
      auto [mu, x] = scaled(c, n.inputs[k]);
      if (mu >= 0 && x == t) {
        m = n.inputs[k];
        grad = n.inputs[1 - k];
      }
    }
  if (m < 0)
    r.why = "not of the form mu * v + grad";
  else if (c.uses[m] != 1)
    r.why = "mu * v " + c.who(m) + " has " + c.usersStr(m);
  else if (c.type(grad).dims != c.type(t).dims)
    r.why = "shape: the gradient " + c.type(grad).str() + " is broadcast";
  else {
    NodeId mu = scaled(c, m).first;
    r.operands = {t, grad, mu};
    r.text = c.who(mu) + " * " + c.who(t) + " + " + c.who(grad);
  }
  return r;
}

UpdateMatch matchUpdate(const FuseContext &c, UpdateOp op, const Update &u) {
  switch (op) {
  case UpdateOp::SgdMomentum:
    return matchSgdMomentum(c, u);
  case UpdateOp::Sgd:
    return matchSgdStep(c, u);
  case UpdateOp::AdamMoment: // TODO(adam): matchers
  case UpdateOp::AdamVariance:
  case UpdateOp::Adam:
    return {};
  }
  return {};
}

} // namespace nn
