//===- Sgd.cpp - Stochastic gradient descent ------------------------------===//
///
/// \file
/// PyTorch's SGD: with weight decay wd != 0 the gradient is first
/// g' = g + wd * w; with momentum mu != 0 each parameter w has a state leaf
/// v ("optimizer.<w>.momentum", zero at first) and
///   v' = mu * v + g',   w' = w - lr * s
/// with s = v', or s = g' + mu * v' with nesterov; without momentum
/// w' = w - lr * g' (nesterov needs momentum: the frontend refuses it, as
/// PyTorch does). The scalars lr, momentum and wd are shared by every
/// parameter. The matchers below recognise these
/// forms for passes/FuseSgd.cpp, which turns them into the fused.sgd_momentum
/// and fused.sgd ops of ir/Ops.def. Operand orders of the commutative add
/// and mul are accepted either way (IEEE add and multiply commute exactly).
///
//===----------------------------------------------------------------------===//

#include "passes/FuseUtil.h"
#include "passes/optim/Optimizer.h"

#include "ir/Support.h"

namespace nn {

void addSgdUpdates(OptimizerContext &c) {
  const OptimizerSpec &opt = c.spec;
  NN_ASSERT(opt.nesterov == 0 || opt.momentum != 0,
            "nesterov without momentum reached the optimizer");
  NodeId lr = -1, mu = -1, wd = -1;
  for (auto [p, g] : c.params) {
    c.b.loc = c.g[p].loc;
    if (lr < 0) {
      lr = c.lr();
      if (opt.momentum != 0)
        mu = c.b.constant(opt.momentum, "momentum");
      if (opt.weightDecay != 0)
        wd = c.b.constant(opt.weightDecay, "weight_decay");
    }
    NodeId grad = g;
    if (wd >= 0) // g' = g + wd * w
      grad = c.b.binary(OpKind::Add, g, c.b.binary(OpKind::Mul, wd, p),
                        "decayed." + c.g[g].name);
    NodeId step = grad;
    if (opt.momentum != 0) {
      // v' = momentum * v + g
      NodeId v = c.stateLeaf(p, "momentum");
      step = c.b.binary(OpKind::Add, c.b.binary(OpKind::Mul, mu, v), grad,
                        "new." + c.g[v].name);
      c.update(v, step);
      if (opt.nesterov != 0) // s = g' + momentum * v'
        step = c.b.binary(OpKind::Add, grad, c.b.binary(OpKind::Mul, mu, step),
                          "nesterov." + c.g[p].name);
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

/// Whether `x` is `(1 - mu) * y` (either order), as Adam's moments read.
bool isAdamMomentTerm(const FuseContext &c, NodeId x, NodeId mu) {
  if (!c.is(x, OpKind::Mul))
    return false;
  for (NodeId k : c.g[x].inputs)
    if (c.is(k, OpKind::Sub) && c.g[k].inputs[1] == mu &&
        c.isScalarConst(c.g[k].inputs[0]) &&
        c.constValue(c.g[k].inputs[0]) == 1.0)
      return true;
  return false;
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
  else if (isAdamMomentTerm(c, grad, scaled(c, m).first))
    r.why = "mu * v + (1 - mu) * g is Adam's moment";
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
  case UpdateOp::AdamMoment:
    return matchAdamMoment(c, u);
  case UpdateOp::AdamVariance:
    return matchAdamVariance(c, u);
  case UpdateOp::Adam:
    return matchAdamStep(c, u);
  }
  return {};
}

} // namespace nn
