//===- FuseDenseGrad.cpp - Backward dense layers --------------------------===//
///
/// \file
/// Algorithm: two sweeps over the live nodes of the input graph.
///
/// 1. Activation gradients. Each `dz = da * act'(a)` in the form autodiff
///    builds it (passes/grad/ElementwiseGrad.h: buildMaskedGrad, recognised
///    by matchMaskedGrad beside it) is a candidate; for relu the mask is
///    step(z), equal to step(a) for every z, NaN included, so the fused op
///    reads it from the activation's output. For gelu and silu, whose
///    derivative is written in the input (gradFromInput), the operand `a`
///    of the fused ops is z itself; leaky_relu's slope travels in `param`.
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
#include "passes/grad/ElementwiseGrad.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nn {

namespace {

/// The operand of `id` when it is a 2-D transpose, else -1.
NodeId transposed(const FuseContext &c, NodeId id) {
  return c.is(id, OpKind::Transpose) && c.type(id).rank() == 2
             ? c.g[id].inputs[0]
             : -1;
}

const char *kName = "dense-grad";

/// Folds masked gradient `m` (node dz) into each gradient matmul or bias
/// sum that uses it; the log names what was folded and what keeps dz.
void foldMaskedGrad(const FuseContext &c, NodeId dz, const MaskedGrad &m,
                    const std::string &what, Graph &out, FusionLog &log) {
  const Graph &g = c.g;
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
      out[u].param = m.param;
      folded.push_back("input gradient " + c.who(u));
    } else if (x >= 0 && un.inputs[0] != dz) {
      rewriteAs(out[u], OpKind::DenseGradWeight, {x, m.da, m.a});
      out[u].act = m.act;
      out[u].param = m.param;
      folded.push_back("weight gradient " + c.who(u));
    } else if (un.op == OpKind::Sum && un.axis == 0 && matrix) {
      rewriteAs(out[u], OpKind::DenseGradBias, {m.da, m.a});
      out[u].act = m.act;
      out[u].param = m.param;
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
  std::string text =
      what + ": folded into " + fmt::format("{}", fmt::join(folded, ", "));
  if (folded.empty())
    text = what + ": not fused: no gradient matmul or bias sum uses it";
  if (!kept.empty())
    text += "; kept materialized for " +
            fmt::format("{}", fmt::join(kept, ", ")) +
            " (not a gradient matmul or bias sum)";
  log.add(kName, !folded.empty(), text);
}

/// Sweep 1: the masked activation gradients.
void fuseMaskedGrads(const FuseContext &c, Graph &out, FusionLog &log) {
  for (NodeId dz = 0; dz < c.g.size(); ++dz) {
    if (!c.live[dz])
      continue;
    MaskedGrad m = matchMaskedGrad(c, dz);
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
    foldMaskedGrad(c, dz, m, what, out, log);
  }
}

/// Sweep 2: transposed operands of the remaining matmuls, read in place.
void fuseTransposes(const FuseContext &c, Graph &out, FusionLog &log) {
  const Graph &g = c.g;
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
}

} // namespace

Graph fuseDenseGrad(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  fuseMaskedGrads(c, out, log);
  fuseTransposes(c, out, log);
  return out;
}

} // namespace nn
