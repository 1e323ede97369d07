//===- FuseConv.cpp - Convolutions, forward and backward ------------------===//
///
/// \file
/// Algorithm: four sweeps, the backward first (as dense-grad runs before
/// dense, and for the same reason: relu's gradient reads its mask from the
/// pre-activation z, and once that mask is read from the activation's
/// output z has one user left, the activation, so the forward can fuse).
///
/// 1. Activation gradients. Each live `dz = da * act'(a)` in the form
///    autodiff builds it (passes/grad/ElementwiseGrad.h: matchMaskedGrad,
///    the matcher the dense-grad fusion uses) whose users include a
///    convolution gradient is a candidate. Each user that reads dz as its
///    dy, and carries no activation yet, becomes the same op with the
///    activation gradient folded in (operand orders in ir/Ops.def):
///      conv2d_grad_input(dz, w)   -> conv2d_grad_input(da, w, a) {act}
///      conv2d_grad_weight(x, dz)  -> conv2d_grad_weight(x, da, a) {act}
///      channel_sum(dz)            -> channel_sum(da, a) {act}
///    `a` is the activation's output, or its input z for gelu and silu
///    (gradFromInput); leaky_relu's slope travels in `param`. It folds
///    only when these are all of dz's uses, so that dz is no longer
///    computed: where another op (batch norm's gradient, a residual skip)
///    or an output needs dz anyway, folding would only read dy and a in
///    its place, and the log says why it stays. A masked gradient with no
///    convolution-gradient user is the dense-grad fusion's, and this sweep
///    says nothing of it.
/// 2. Activations. On the graph after sweeps 1 and 3a, each live conv2d
///    without an activation whose only use is an activation op (an
///    NN_ACTIVATION row) becomes, in the activation's node (keeping its
///    name, so its users need no change), `conv2d(x, w[, b][, s, t])
///    {act}` (a batch norm folded in 3a stays before the activation) with
///    the convolution's window; the convolution dies. In a training graph an activation whose
///    derivative is written in its input (gelu, silu) has its gradient as a
///    second user of z, so it stays apart, and the log says why.
///
/// 3. Batch norm in evaluation form (passes/EvalForm.cpp: one
///    channel_affine(y, s, t) per batch norm, its running statistics and
///    its weight and bias merged) folds into the convolution it reads, as
///    a per-output-channel scale and shift in the convolution's epilogue
///    (ir/ConvAffine.h): channel_affine(conv2d(x, w[, b]), s, t) becomes,
///    in the affine's node, conv2d(x, w[, b], s, t) {affine}. It runs
///    twice: 3a before sweep 2 on convolutions without an activation
///    (conv -> batch norm -> relu: the affine goes before the activation
///    that sweep 2 then fuses), and 3b after it on those with one (conv +
///    relu -> batch norm: the affine goes after). It folds when the affine is the
///    convolution's only use and has its shift; the log says why not
///    otherwise. Training graphs have no such pair (batch norm there is
///    batch_normalize, on batch statistics), so they are unaffected.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"
#include "ir/ConvAffine.h"
#include "passes/grad/ElementwiseGrad.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nn {

namespace {

const char *kName = "conv";

/// Whether user `u` of `dz` is a convolution gradient that reads dz as its
/// dy and has no activation gradient folded in yet; `role` names it.
bool isConvGradOf(const Graph &g, NodeId u, NodeId dz, const char *&role) {
  const Node &n = g[u];
  if (n.op == OpKind::Conv2dGradInput) {
    role = "input gradient";
    return n.inputs.size() == 2 && n.inputs[0] == dz && n.inputs[1] != dz;
  }
  if (n.op == OpKind::Conv2dGradWeight) {
    role = "weight gradient";
    return n.inputs.size() == 2 && n.inputs[1] == dz && n.inputs[0] != dz;
  }
  role = "bias gradient";
  return n.op == OpKind::ChannelSum && n.inputs.size() == 1 &&
         n.inputs[0] == dz;
}

/// The operands of convolution gradient `n` (which reads dz) with the
/// activation gradient folded in: dy becomes da, and `a` is appended.
std::vector<NodeId> foldedOperands(const Node &n, const MaskedGrad &m) {
  if (n.op == OpKind::Conv2dGradInput)
    return {m.da, n.inputs[1], m.a};
  if (n.op == OpKind::Conv2dGradWeight)
    return {n.inputs[0], m.da, m.a};
  return {m.da, m.a}; // channel_sum
}

/// Sweep 1: folds masked gradient `m` (node dz) into the convolution
/// gradients that read it, when they are all its uses, so that dz is no
/// longer computed. Where something else needs dz it is computed anyway,
/// and folding would only make each gradient read dy and a in its place
/// (and channel_sum, a memory-bound sum, read twice the bytes): the log
/// says so and nothing changes.
void foldMaskedGrad(const FuseContext &c, NodeId dz, const MaskedGrad &m,
                    Graph &out, FusionLog &log) {
  const Graph &g = c.g;
  std::string what = c.who(dz) + " = " + c.who(m.da) + " * " +
                     activationName(m.act) + "'(" + c.who(m.a) + ")";
  if (c.type(m.da).dims != c.type(dz).dims ||
      c.type(m.a).dims != c.type(dz).dims) {
    log.add(kName, false,
            what + ": not fused: shape: the operands are broadcast (" +
                c.type(m.da).str() + ", " + c.type(m.a).str() + ")");
    return;
  }
  std::vector<std::string> folded, others;
  for (NodeId u : c.users[dz]) {
    const char *role = "";
    if (isConvGradOf(g, u, dz, role))
      folded.push_back(std::string(role) + " " + c.who(u));
    else
      others.push_back(c.who(u));
  }
  for (const Output &o : g.outputs)
    if (o.node == dz)
      others.push_back("output '" + o.name + "'");
  for (const Update &up : g.updates)
    if (up.value == dz)
      others.push_back("update of " + c.who(up.target));
  if (!others.empty()) {
    log.add(kName, false,
            what + ": not fused: also used by " +
                fmt::format("{}", fmt::join(others, ", ")) +
                " (not a convolution gradient), so it is computed anyway "
                "and read as it is by " +
                fmt::format("{}", fmt::join(folded, ", ")));
    return;
  }
  for (NodeId u : c.users[dz]) {
    rewriteAs(out[u], g[u].op, foldedOperands(g[u], m));
    out[u].act = m.act;
    out[u].param = m.param;
  }
  log.add(kName, true,
          what + ": folded into " + fmt::format("{}", fmt::join(folded, ", ")));
}

void fuseConvGrads(const FuseContext &c, Graph &out, FusionLog &log) {
  for (NodeId dz = 0; dz < c.g.size(); ++dz) {
    if (!c.live[dz])
      continue;
    bool convUser = false;
    for (NodeId u : c.users[dz]) {
      const char *role = "";
      convUser = convUser || isConvGradOf(c.g, u, dz, role);
    }
    if (!convUser)
      continue;
    MaskedGrad m = matchMaskedGrad(c, dz);
    if (m.act != Activation::None)
      foldMaskedGrad(c, dz, m, out, log);
  }
}

/// Why conv2d `p`, which has other users than one activation, stays
/// without one; "" when no activation reads it (nothing to say: the
/// convolution already has its bias).
std::string whyNotFused(const FuseContext &c, NodeId p) {
  for (NodeId u : c.users[p]) {
    std::optional<Activation> act = activationOf(c.g[u].op);
    if (!act)
      continue;
    std::string why = c.who(p) + ": " + activationName(*act) + " " +
                      c.who(u) + " not fused: its pre-activation has " +
                      c.usersStr(p);
    if (gradFromInput(*act))
      why += " (" + std::string(activationName(*act)) +
             "'s gradient is computed from its input, so the input is kept)";
    return why;
  }
  return "";
}

/// Sweep 2: conv2d + activation.
void fuseConvActivations(const FuseContext &c, Graph &out, FusionLog &log) {
  const Graph &g = c.g;
  for (NodeId p = 0; p < g.size(); ++p) {
    if (!c.live[p] || g[p].op != OpKind::Conv2d ||
        g[p].act != Activation::None)
      continue;
    NodeId root = c.users[p].size() == 1 ? c.users[p][0] : -1;
    std::optional<Activation> act =
        root >= 0 && c.uses[p] == 1 ? activationOf(g[root].op) : std::nullopt;
    if (!act) {
      std::string why = whyNotFused(c, p);
      if (!why.empty())
        log.add(kName, false, why);
      continue;
    }
    // A batch norm folded by sweep 3a stays before the activation.
    rewriteAs(out[root], OpKind::Conv2d, g[p].inputs);
    setAffineAfterAct(out[root], false);
    out[root].win = g[p].win;
    out[root].shape = g[p].shape;
    out[root].act = *act;
    // leaky_relu's slope stays in param; the other activations have none.
    log.add(kName, true,
            c.who(p) + " + " + c.who(root) + " -> " + c.who(root) +
                " = conv2d {act = " + activationName(*act) +
                (convOperands(g[p]).hasAffine() ? ", affine = before}" : "}"));
  }
}

/// Why channel_affine `a` stays apart from conv2d `p`, which it reads; ""
/// when it folds.
std::string whyAffineStays(const FuseContext &c, NodeId a, NodeId p) {
  if (convOperands(c.g[p]).hasAffine())
    return "the convolution has a batch norm folded in already";
  if (c.g[a].inputs.size() != 3)
    return "the affine has no shift";
  if (c.uses[p] != 1)
    return "the convolution's output has " + c.usersStr(p) +
           ", so it is computed as it is";
  return "";
}

/// Sweeps 3a (`after` false: convolutions without an activation) and 3b
/// (`after`: with one): channel_affine(conv2d(x, w[, b]), s, t) becomes
/// conv2d(x, w[, b], s, t) {affine} in the affine's node.
void foldBatchNorms(const FuseContext &c, bool after, Graph &out,
                    FusionLog &log) {
  const Graph &g = c.g;
  for (NodeId a = 0; a < g.size(); ++a) {
    if (!c.live[a] || !c.is(a, OpKind::ChannelAffine))
      continue;
    NodeId p = g[a].inputs[0];
    if (!c.is(p, OpKind::Conv2d) || (g[p].act != Activation::None) != after)
      continue;
    std::string what = c.who(p) + " (conv2d" +
                       (after ? std::string(" + ") + activationName(g[p].act)
                              : std::string()) +
                       ") + " + c.who(a) + " (batch_norm, eval)";
    std::string why = whyAffineStays(c, a, p);
    if (!why.empty()) {
      log.add(kName, false, what + ": not folded: " + why);
      continue;
    }
    std::vector<NodeId> ops = g[p].inputs;
    ops.push_back(g[a].inputs[1]);
    ops.push_back(g[a].inputs[2]);
    rewriteAs(out[a], OpKind::Conv2d, ops);
    out[a].win = g[p].win;
    out[a].shape = g[p].shape;
    out[a].act = g[p].act;
    out[a].param = g[p].param;
    setAffineAfterAct(out[a], after);
    log.add(kName, true,
            what + " -> " + c.who(a) + " = conv2d {" +
                (after ? "act = " + std::string(activationName(g[p].act)) +
                             ", affine = after}"
                       : "affine = before}"));
  }
}

} // namespace

Graph fuseConv(const Graph &g, FusionLog &log) {
  Graph out = g;
  {
    FuseContext c(g);
    fuseConvGrads(c, out, log);
  }
  // Each sweep reads the graph the one before it left.
  auto sweep = [&](auto run) {
    Graph mid = out;
    FuseContext c(mid);
    run(c);
  };
  sweep([&](const FuseContext &c) { foldBatchNorms(c, false, out, log); });
  sweep([&](const FuseContext &c) { fuseConvActivations(c, out, log); });
  sweep([&](const FuseContext &c) { foldBatchNorms(c, true, out, log); });
  return out;
}

} // namespace nn
