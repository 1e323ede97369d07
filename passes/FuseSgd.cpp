//===- FuseSgd.cpp - The optimizer update ---------------------------------===//
///
/// \file
/// Algorithm: every update of the graph is a candidate. A parameter's new
/// value `sub(w, mul(lr, s))` (lr a scalar, the mul used only there, w the
/// update's target) becomes `fused.sgd w, s, lr`; a momentum buffer's new
/// value `add(mul(mu, v), g)` (mu a scalar, the mul used only there, v the
/// target) becomes `fused.sgd_momentum v, g, mu`. Operand orders of the
/// commutative add and mul are accepted either way (IEEE add and multiply
/// commute exactly). Roots are rewritten in place. Every parameter's update
/// becomes one of these ops, so a backend updates them all in one pass,
/// reading each v and g once where s is the parameter's sgd_momentum (see
/// Ops.def). Anything else (e.g. Adam, or a shared step) is left alone and
/// logged.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"

namespace nn {

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
    return {a, b}; // a scalar parameter: autodiff writes mul(lr, step)
  return {-1, -1};
}

} // namespace

Graph fuseSgd(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "sgd";
  int fused = 0;
  for (const Update &u : g.updates) {
    NodeId t = u.target, v = u.value;
    const Node &n = g[v];
    std::string what = "update of " + c.who(t) + " <- " + c.who(v);
    std::string why;
    if (c.is(t, OpKind::Param)) {
      if (n.op != OpKind::Sub || n.inputs[0] != t) {
        why = "not of the form w - lr * step";
      } else if (auto [lr, s] = scaled(c, n.inputs[1]); lr < 0) {
        why = "not of the form w - lr * step";
      } else if (c.uses[n.inputs[1]] != 1) {
        why = "lr * step " + c.who(n.inputs[1]) + " has " +
              c.usersStr(n.inputs[1]);
      } else if (c.type(s).dims != c.type(t).dims) {
        why = "shape: the step " + c.type(s).str() + " is broadcast";
      } else {
        rewriteAs(out[v], OpKind::Sgd, {t, s, lr});
        log.add(kName, true, what + " = " + c.who(t) + " - " + c.who(lr) +
                                 " * " + c.who(s) + " -> fused.sgd");
        ++fused;
        continue;
      }
    } else {
      NodeId m = -1, grad = -1;
      if (n.op == OpKind::Add)
        for (int k = 0; k < 2 && m < 0; ++k) {
          auto [mu, x] = scaled(c, n.inputs[k]);
          if (mu >= 0 && x == t) {
            m = n.inputs[k];
            grad = n.inputs[1 - k];
          }
        }
      if (m < 0) {
        why = "not of the form mu * v + grad";
      } else if (c.uses[m] != 1) {
        why = "mu * v " + c.who(m) + " has " + c.usersStr(m);
      } else if (c.type(grad).dims != c.type(t).dims) {
        why = "shape: the gradient " + c.type(grad).str() + " is broadcast";
      } else {
        NodeId mu = scaled(c, m).first;
        rewriteAs(out[v], OpKind::SgdMomentum, {t, grad, mu});
        log.add(kName, true, what + " = " + c.who(mu) + " * " + c.who(t) +
                                 " + " + c.who(grad) +
                                 " -> fused.sgd_momentum");
        ++fused;
        continue;
      }
    }
    log.add(kName, false, what + ": not fused: " + why);
  }
  if (!g.updates.empty())
    log.add(kName, fused > 0,
            fused == static_cast<int>(g.updates.size())
                ? "all " + std::to_string(fused) +
                      " updates fused: every parameter in one pass"
                : std::to_string(fused) + " of " +
                      std::to_string(g.updates.size()) + " updates fused");
  return out;
}

} // namespace nn
