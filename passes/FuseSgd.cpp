//===- FuseSgd.cpp - The optimizer update ---------------------------------===//
///
/// \file
/// Algorithm: every update of the graph is a candidate, tried against each
/// op of the Update family of ir/Ops.def: the optimizer's file recognises
/// the unfused form it builds (passes/optim/Optimizer.h, matchUpdate; SGD's
/// `w - lr * s` becomes `fused.sgd w, s, lr` and `mu * v + g` becomes
/// `fused.sgd_momentum v, g, mu`; Adam's moments and step become
/// fused.adam_moment, fused.adam_variance and fused.adam). Roots are
/// rewritten in place. Every parameter's update becomes one of these ops,
/// so a backend updates them all in one pass, reading each v and g once
/// where s is the parameter's sgd_momentum (see Ops.def). The step counter
/// (t + 1) is no update op and not counted, nor are the updates of buffers
/// (batch norm's running statistics: the model's own, no optimizer's).
/// Anything else (e.g. a shared step) is left alone and logged.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"
#include "passes/optim/Optimizer.h"

namespace nn {

namespace {

/// The ops of the Update family, in table order.
const std::vector<OpKind> &updateOps() {
  static const std::vector<OpKind> ops = [] {
    std::vector<OpKind> out;
    for (OpKind k : allOps())
      if (family(k) == OpFamily::Update)
        out.push_back(k);
    return out;
  }();
  return ops;
}

/// Rewrites update `u` as the first update op whose form it has; false
/// with the reason of the first op that applies to its target otherwise.
bool fuseUpdate(const FuseContext &c, const Update &u, Graph &out,
                FusionLog &log) {
  const char *kName = "sgd";
  std::string what = "update of " + c.who(u.target) + " <- " + c.who(u.value);
  std::string why;
  for (OpKind k : updateOps()) {
    UpdateMatch m = matchUpdate(c, member<UpdateOp>(k), u);
    if (!m.applies)
      continue;
    if (m.operands.empty()) {
      if (why.empty())
        why = m.why;
      continue;
    }
    rewriteAs(out[u.value], k, m.operands);
    log.add(kName, true, what + " = " + m.text + " -> " + mnemonic(k));
    return true;
  }
  log.add(kName, false, what + ": not fused: " + why);
  return false;
}

} // namespace

Graph fuseSgd(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  int fused = 0, tensors = 0;
  for (const Update &u : g.updates) {
    // The step counter t + 1 is a scalar add, no update op.
    if (g[u.target].name == kStepLeaf && g[u.target].type.isScalar())
      continue;
    if (g[u.target].buffer) // a running statistic: elementwise, not SGD's
      continue;
    ++tensors;
    fused += fuseUpdate(c, u, out, log);
  }
  if (tensors > 0)
    log.add("sgd", fused > 0,
            fused == tensors ? "all " + std::to_string(fused) +
                                   " updates fused: every parameter in one pass"
                             : std::to_string(fused) + " of " +
                                   std::to_string(tensors) + " updates fused");
  return out;
}

} // namespace nn
