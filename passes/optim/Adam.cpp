//===- Adam.cpp - Adam and AdamW ------------------------------------------===//
///
/// \file
/// torch.optim.Adam and torch.optim.AdamW, as ordinary ops. Each parameter w
/// has state leaves m and v ("optimizer.<w>.m", "optimizer.<w>.v", zero at
/// first); t is the step number after this step (OptimizerContext::
/// stepNumber, from the state leaf "optimizer.step"). With gradient g:
///   g' = g + wd * w                      (adam with weight_decay only)
///   m' = b1 * m + (1 - b1) * g'
///   v' = b2 * v + (1 - b2) * (g' * g')
///   step = lr / (1 - exp(t * log b1))    (lr / (1 - b1^t))
///   c2 = sqrt(1 - exp(t * log b2))       (sqrt(1 - b2^t))
///   w' = w * decay - step * (m' / (sqrt(v') / c2 + eps))
/// with decay = 1 - lr * wd for AdamW (PyTorch's decoupled decay, done
/// before the step) and 1 for Adam. The scalars are computed once per step
/// and shared by every parameter. log b1 and log b2 are Consts; b^t is
/// exp(t * log b) since the IR has no pow. The matchers below recognise
/// m', v' and w' for passes/FuseSgd.cpp (fused.adam_moment,
/// fused.adam_variance, fused.adam of ir/Ops.def); operand orders of add
/// and mul are accepted either way.
///
//===----------------------------------------------------------------------===//

#include "passes/FuseUtil.h"
#include "passes/optim/Optimizer.h"

#include <cmath>

namespace nn {

namespace {

/// The scalars every parameter's Adam update shares.
struct AdamScalars {
  NodeId b1 = -1, oneMinusB1 = -1, b2 = -1, oneMinusB2 = -1, wd = -1;
  NodeId decay = -1, step = -1, c2 = -1, eps = -1;
};

/// 1 - b^t as 1 - exp(t * log b).
NodeId biasCorrection(OptimizerContext &c, double beta, const char *name) {
  Builder &b = c.b;
  NodeId logBeta = b.constant(std::log(beta), std::string("log.") + name);
  NodeId power =
      b.unary(OpKind::Exp, b.binary(OpKind::Mul, c.stepNumber(), logBeta),
              std::string(name) + ".pow.t");
  return b.binary(OpKind::Sub, b.constant(1.0), power,
                  std::string("bias.correction.") + name);
}

AdamScalars adamScalars(OptimizerContext &c, bool decoupled) {
  const OptimizerSpec &opt = c.spec;
  Builder &b = c.b;
  AdamScalars s;
  NodeId one = b.constant(1.0);
  s.b1 = b.constant(opt.beta1, "beta1");
  s.oneMinusB1 = b.binary(OpKind::Sub, one, s.b1, "one_minus_beta1");
  s.b2 = b.constant(opt.beta2, "beta2");
  s.oneMinusB2 = b.binary(OpKind::Sub, one, s.b2, "one_minus_beta2");
  s.eps = b.constant(opt.eps, "eps");
  if (opt.weightDecay != 0)
    s.wd = b.constant(opt.weightDecay, "weight_decay");
  // decay = 1 - lr * wd (AdamW), else 1: w * 1 is w exactly.
  s.decay = decoupled && s.wd >= 0
                ? b.binary(OpKind::Sub, one,
                           b.binary(OpKind::Mul, c.lr(), s.wd), "decay")
                : b.constant(1.0, "decay");
  s.step = b.binary(OpKind::Div, c.lr(), biasCorrection(c, opt.beta1, "beta1"),
                    "step.size");
  s.c2 = b.unary(OpKind::Sqrt, biasCorrection(c, opt.beta2, "beta2"),
                 "bias.correction.beta2.sqrt");
  return s;
}

void addUpdates(OptimizerContext &c, bool decoupled) {
  if (c.params.empty())
    return;
  c.b.loc = c.g[c.params.front().first].loc;
  AdamScalars s = adamScalars(c, decoupled);
  Builder &b = c.b;
  for (auto [p, grad] : c.params) {
    b.loc = c.g[p].loc;
    NodeId gr = grad;
    if (!decoupled && s.wd >= 0) // g' = g + wd * w
      gr = b.binary(OpKind::Add, grad, b.binary(OpKind::Mul, s.wd, p),
                    "decayed." + c.g[grad].name);
    NodeId m = c.stateLeaf(p, "m"), v = c.stateLeaf(p, "v");
    NodeId m2 =
        b.binary(OpKind::Add, b.binary(OpKind::Mul, s.b1, m),
                 b.binary(OpKind::Mul, s.oneMinusB1, gr), "new." + c.g[m].name);
    NodeId v2 = b.binary(
        OpKind::Add, b.binary(OpKind::Mul, s.b2, v),
        b.binary(OpKind::Mul, s.oneMinusB2, b.binary(OpKind::Mul, gr, gr)),
        "new." + c.g[v].name);
    NodeId denom =
        b.binary(OpKind::Add,
                 b.binary(OpKind::Div, b.unary(OpKind::Sqrt, v2), s.c2), s.eps);
    NodeId w2 = b.binary(
        OpKind::Sub, b.binary(OpKind::Mul, p, s.decay),
        b.binary(OpKind::Mul, s.step, b.binary(OpKind::Div, m2, denom)),
        "new." + c.g[p].name);
    c.update(m, m2);
    c.update(v, v2);
    c.update(p, w2);
  }
}

} // namespace

void addAdamUpdates(OptimizerContext &c) { addUpdates(c, false); }

void addAdamwUpdates(OptimizerContext &c) { addUpdates(c, true); }

namespace {

/// The two operands of `id` when it is an `op` node, either order.
bool operandsOf(const FuseContext &c, NodeId id, OpKind op, NodeId &a,
                NodeId &b) {
  if (!c.is(id, op))
    return false;
  a = c.g[id].inputs[0];
  b = c.g[id].inputs[1];
  return true;
}

/// Whether `id` is `1 - beta` (a Const 1).
bool oneMinus(const FuseContext &c, NodeId id, NodeId beta) {
  NodeId one, x;
  return operandsOf(c, id, OpKind::Sub, one, x) && x == beta &&
         c.isScalarConst(one) && c.constValue(one) == 1.0;
}

/// `mul(k, x)` or `mul(x, k)` with k a scalar `1 - beta` for some scalar
/// beta: {beta, x}, or {-1, -1}.
std::pair<NodeId, NodeId> timesOneMinus(const FuseContext &c, NodeId id) {
  NodeId a, b;
  if (!operandsOf(c, id, OpKind::Mul, a, b))
    return {-1, -1};
  for (int k = 0; k < 2; ++k, std::swap(a, b))
    if (c.type(a).isScalar() && c.is(a, OpKind::Sub)) {
      NodeId beta = c.g[a].inputs[1];
      if (c.type(beta).isScalar() && oneMinus(c, a, beta))
        return {beta, b};
    }
  return {-1, -1};
}

/// beta * t + (1 - beta) * x for target t: {beta, x}, the two products
/// in `parts`; `why` otherwise.
std::pair<NodeId, NodeId> movingAverage(const FuseContext &c, const Update &u,
                                        std::vector<NodeId> &parts) {
  NodeId l, r;
  if (!operandsOf(c, u.value, OpKind::Add, l, r))
    return {-1, -1};
  for (int k = 0; k < 2; ++k, std::swap(l, r)) {
    NodeId beta, x;
    auto [beta2, y] = timesOneMinus(c, r);
    if (beta2 < 0 || !operandsOf(c, l, OpKind::Mul, beta, x))
      continue;
    if (x == beta2)
      std::swap(beta, x);
    if (beta == beta2 && x == u.target) {
      parts = {l, r};
      return {beta, y};
    }
  }
  return {-1, -1};
}

/// Fills r for a moving average of the target state (fused.adam_moment
/// when `squared` is false, fused.adam_variance when true).
UpdateMatch matchAverage(const FuseContext &c, const Update &u, bool squared) {
  UpdateMatch r;
  r.applies = c.is(u.target, OpKind::State);
  if (!r.applies)
    return r;
  std::vector<NodeId> parts;
  auto [beta, x] = movingAverage(c, u, parts);
  NodeId g = x;
  bool form = beta >= 0;
  NodeId a = -1, b = -1;
  bool square = form && operandsOf(c, x, OpKind::Mul, a, b) && a == b;
  if (squared) {
    form = square;
    g = a;
    parts.push_back(x);
  } else if (square) {
    r.why = "beta * v + (1 - beta) * (g * g) is Adam's second moment";
    return r;
  }
  const char *shape =
      squared ? "beta * v + (1 - beta) * (g * g)" : "beta * m + (1 - beta) * g";
  if (!form) {
    r.why = std::string("not of the form ") + shape;
    return r;
  }
  for (NodeId part : parts)
    if (c.uses[part] != 1) {
      r.why = c.who(part) + " has " + c.usersStr(part);
      return r;
    }
  if (c.type(g).dims != c.type(u.target).dims) {
    r.why = "shape: the gradient " + c.type(g).str() + " is broadcast";
    return r;
  }
  r.operands = {u.target, g, beta};
  r.text = c.who(beta) + " * " + c.who(u.target) + " + (1 - " + c.who(beta) +
           ") * " + (squared ? c.who(g) + "^2" : c.who(g));
  return r;
}

/// The nodes of `m / (sqrt(v) / c2 + eps)` ({m, v, c2, eps}, the inner
/// nodes in `inner`), empty when `id` is not of that form.
std::vector<NodeId> adamRatio(const FuseContext &c, NodeId id,
                              const TensorType &t, std::vector<NodeId> &inner) {
  NodeId m, denom, sq, eps, root, c2;
  if (!operandsOf(c, id, OpKind::Div, m, denom) ||
      !operandsOf(c, denom, OpKind::Add, sq, eps))
    return {};
  if (!c.is(sq, OpKind::Div))
    std::swap(sq, eps);
  if (!operandsOf(c, sq, OpKind::Div, root, c2) || !c.is(root, OpKind::Sqrt) ||
      !c.type(c2).isScalar() || !c.type(eps).isScalar() ||
      c.type(m).dims != t.dims || c.type(c.g[root].inputs[0]).dims != t.dims)
    return {};
  inner = {id, denom, sq, root};
  return {m, c.g[root].inputs[0], c2, eps};
}

/// The nodes of w * decay - step * (m / (sqrt(v) / c2 + eps)) and its
/// operands {w, m, v, decay, step, c2, eps}; empty when not that form.
std::vector<NodeId> adamStep(const FuseContext &c, const Update &u,
                             std::vector<NodeId> &inner) {
  const TensorType &t = c.type(u.target);
  NodeId wd, rest, w, decay, ratio, step;
  if (!operandsOf(c, u.value, OpKind::Sub, wd, rest) ||
      !operandsOf(c, wd, OpKind::Mul, w, decay) ||
      !operandsOf(c, rest, OpKind::Mul, step, ratio))
    return {};
  if (decay == u.target)
    std::swap(w, decay);
  std::vector<NodeId> r = adamRatio(c, ratio, t, inner);
  if (r.empty()) {
    std::swap(step, ratio);
    r = adamRatio(c, ratio, t, inner);
  }
  if (w != u.target || !c.type(decay).isScalar() || r.empty() ||
      !c.type(step).isScalar())
    return {};
  inner.push_back(wd);
  inner.push_back(rest);
  return {w, r[0], r[1], decay, step, r[2], r[3]};
}

} // namespace

UpdateMatch matchAdamMoment(const FuseContext &c, const Update &u) {
  return matchAverage(c, u, false);
}

UpdateMatch matchAdamVariance(const FuseContext &c, const Update &u) {
  return matchAverage(c, u, true);
}

/// w * decay - step * (m / (sqrt(v) / c2 + eps)) with w the target Param:
/// fused.adam w, m, v, decay, step, c2, eps.
UpdateMatch matchAdamStep(const FuseContext &c, const Update &u) {
  UpdateMatch r;
  r.applies = c.is(u.target, OpKind::Param);
  if (!r.applies)
    return r;
  std::vector<NodeId> inner;
  std::vector<NodeId> ops = adamStep(c, u, inner);
  if (ops.empty()) {
    r.why = "not of the form w * decay - step * (m / (sqrt(v) / c2 + eps))";
    return r;
  }
  for (NodeId id : inner)
    if (c.uses[id] != 1) {
      r.why = c.who(id) + " has " + c.usersStr(id);
      return r;
    }
  r.operands = ops;
  r.text = c.who(ops[0]) + " * " + c.who(ops[3]) + " - " + c.who(ops[4]) +
           " * (" + c.who(ops[1]) + " / (sqrt(" + c.who(ops[2]) + ") / " +
           c.who(ops[5]) + " + " + c.who(ops[6]) + "))";
  return r;
}

} // namespace nn
