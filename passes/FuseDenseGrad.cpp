//===- FuseDenseGrad.cpp - Backward dense layers --------------------------===//
///
/// \file
/// Algorithm: two sweeps over the live nodes of the input graph.
///
/// 1. Activation gradients. Each `dz = mul(da, f)` whose factor f is an
///    activation's derivative, as autodiff writes it, is a candidate:
///      relu:    f = step(z), with a = relu(z) in the graph (step(z) equals
///               step(a) for every z, NaN included, so the mask is read
///               from the activation's output),
///      sigmoid: f = mul(a, sub(1, a)), a = sigmoid(..),
///      tanh:    f = sub(1, mul(a, a)), a = tanh(..).
///    Each user of dz that is a gradient matmul or the bias gradient becomes
///    a fused op computing da * act'(a) on the fly:
///      matmul(dz, transpose(w)) -> fused.dense_grad_input da, a, w
///      matmul(transpose(x), dz) -> fused.dense_grad_weight x, da, a
///      sum(dz, axis 0)          -> fused.dense_grad_bias da, a
///    Other users keep dz (it is then still computed, and the log says why).
/// 2. Transposes read in place. Every remaining matmul with a transpose
///    operand becomes fused.matmul with transA / transB.
/// Roots are rewritten in place; absorbed nodes die (DCE removes them).
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"

namespace nn {

namespace {

struct ActGrad {
  Activation act = Activation::None;
  NodeId da = -1, a = -1;
};

bool isOne(const FuseContext &c, NodeId id) {
  return c.isScalarConst(id) && c.constValue(id) == 1.0;
}

/// The activation `a` that factor `f` is the derivative of, or -1.
ActGrad matchFactor(const FuseContext &c, NodeId f) {
  const Graph &g = c.g;
  const Node &n = g[f];
  ActGrad r;
  if (n.op == OpKind::Step) {
    for (NodeId u : c.users[n.inputs[0]])
      if (c.is(u, OpKind::Relu)) {
        r.act = Activation::Relu;
        r.a = u;
        return r;
      }
  } else if (n.op == OpKind::Mul) {
    // sigmoid: a * (1 - a), either order.
    for (int k = 0; k < 2; ++k) {
      NodeId a = n.inputs[k], rest = n.inputs[1 - k];
      if (c.is(a, OpKind::Sigmoid) && c.is(rest, OpKind::Sub) &&
          isOne(c, g[rest].inputs[0]) && g[rest].inputs[1] == a) {
        r.act = Activation::Sigmoid;
        r.a = a;
        return r;
      }
    }
  } else if (n.op == OpKind::Sub && isOne(c, n.inputs[0])) {
    // tanh: 1 - a * a.
    NodeId sq = n.inputs[1];
    if (c.is(sq, OpKind::Mul) && g[sq].inputs[0] == g[sq].inputs[1] &&
        c.is(g[sq].inputs[0], OpKind::Tanh)) {
      r.act = Activation::Tanh;
      r.a = g[sq].inputs[0];
      return r;
    }
  }
  return r;
}

/// dz = mul(da, f) with f an activation gradient (either operand order).
ActGrad matchMaskedGrad(const FuseContext &c, NodeId dz) {
  const Node &n = c.g[dz];
  if (n.op != OpKind::Mul || n.inputs[0] == n.inputs[1])
    return {};
  for (int k = 1; k >= 0; --k) {
    ActGrad r = matchFactor(c, n.inputs[k]);
    if (r.act != Activation::None) {
      r.da = n.inputs[1 - k];
      return r;
    }
  }
  return {};
}

/// The operand of `id` when it is a 2-D transpose, else -1.
NodeId transposed(const FuseContext &c, NodeId id) {
  return c.is(id, OpKind::Transpose) && c.type(id).rank() == 2
             ? c.g[id].inputs[0]
             : -1;
}

} // namespace

Graph fuseDenseGrad(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "dense-grad";

  for (NodeId dz = 0; dz < g.size(); ++dz) {
    if (!c.live[dz])
      continue;
    ActGrad m = matchMaskedGrad(c, dz);
    if (m.act == Activation::None)
      continue;
    std::string what = c.who(dz) + " = " + c.who(m.da) + " * " +
                       activationName(m.act) + "'(" + c.who(m.a) + ")";
    if (c.type(m.da).dims != c.type(dz).dims ||
        c.type(m.a).dims != c.type(dz).dims) {
      log.add(kName, false,
              what + ": not fused: shape: the operands are broadcast (" +
                  c.type(m.da).str() + ", " + c.type(m.a).str() + ")");
      continue;
    }
    bool matrix = c.type(dz).rank() == 2;
    std::vector<std::string> folded, kept;
    for (NodeId u : c.users[dz]) {
      const Node &un = g[u];
      NodeId w = un.op == OpKind::MatMul && un.inputs[0] == dz
                     ? transposed(c, un.inputs[1])
                     : -1;
      NodeId x = un.op == OpKind::MatMul && un.inputs[1] == dz
                     ? transposed(c, un.inputs[0])
                     : -1;
      if (w >= 0 && matrix && un.inputs[1] != dz) {
        rewriteAs(out[u], OpKind::DenseGradInput, {m.da, m.a, w});
        out[u].act = m.act;
        folded.push_back("input gradient " + c.who(u));
      } else if (x >= 0 && un.inputs[0] != dz) {
        rewriteAs(out[u], OpKind::DenseGradWeight, {x, m.da, m.a});
        out[u].act = m.act;
        folded.push_back("weight gradient " + c.who(u));
      } else if (un.op == OpKind::Sum && un.axis == 0 && matrix) {
        rewriteAs(out[u], OpKind::DenseGradBias, {m.da, m.a});
        out[u].act = m.act;
        folded.push_back("bias gradient " + c.who(u));
      } else {
        kept.push_back(c.who(u));
      }
    }
    for (const Output &o : g.outputs)
      if (o.node == dz)
        kept.push_back("output '" + o.name + "'");
    for (const Update &up : g.updates)
      if (up.value == dz)
        kept.push_back("update of " + c.who(up.target));
    std::string text = what + ": folded into ";
    for (size_t i = 0; i < folded.size(); ++i)
      text += (i ? ", " : "") + folded[i];
    if (folded.empty())
      text = what + ": not fused: no gradient matmul or bias sum uses it";
    if (!kept.empty()) {
      text += "; kept materialized for ";
      for (size_t i = 0; i < kept.size(); ++i)
        text += (i ? ", " : "") + kept[i];
      text += " (not a gradient matmul or bias sum)";
    }
    log.add(kName, !folded.empty(), text);
  }

  // Transposed operands of the remaining matmuls, read in place.
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!c.live[id] || out[id].op != OpKind::MatMul)
      continue;
    NodeId a = transposed(c, g[id].inputs[0]);
    NodeId b = transposed(c, g[id].inputs[1]);
    if (a < 0 && b < 0)
      continue;
    std::string text = c.who(id) + ": reads ";
    if (a >= 0)
      text += c.who(g[id].inputs[0]) + " of " + c.who(a);
    if (b >= 0)
      text += std::string(a >= 0 ? " and " : "") + c.who(g[id].inputs[1]) +
              " of " + c.who(b);
    rewriteAs(out[id], OpKind::FusedMatMul,
              {a >= 0 ? a : g[id].inputs[0], b >= 0 ? b : g[id].inputs[1]});
    out[id].transA = a >= 0;
    out[id].transB = b >= 0;
    log.add(kName, true, text + " in place (fused.matmul)");
  }
  return out;
}

} // namespace nn
