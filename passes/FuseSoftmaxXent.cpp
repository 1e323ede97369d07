//===- FuseSoftmaxXent.cpp - Softmax + cross-entropy gradient -------------===//
///
/// \file
/// Algorithm: the forward loss softmax_cross_entropy(z, y) is already one op
/// (stable log-sum-exp). Its gradient, as autodiff writes it,
///   mul(sub(softmax(z), onehot(y)), div(g, count(z, axis 0)))
/// (either operand order of the mul), is matched at the mul and rewritten
/// in place as fused.softmax_xent_grad z, y, g: one pass over each row
/// (max, sum of exponentials, then (softmax - onehot) * g / rows). Every
/// softmax_cross_entropy node is a candidate in the log; a softmax that
/// other nodes still use (e.g. the `pred` output) is kept and said so.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"

#include <set>

namespace nn {

namespace {

struct Match {
  NodeId z = -1, y = -1, g = -1, softmax = -1;
};

/// The gradient pattern rooted at mul node `m`, if it is one.
Match matchGrad(const FuseContext &c, NodeId m) {
  const Graph &g = c.g;
  if (!c.is(m, OpKind::Mul))
    return {};
  for (int k = 0; k < 2; ++k) {
    NodeId d = g[m].inputs[k], s = g[m].inputs[1 - k];
    if (!c.is(d, OpKind::Sub) || !c.is(s, OpKind::Div))
      continue;
    NodeId sm = g[d].inputs[0], hot = g[d].inputs[1];
    NodeId dl = g[s].inputs[0], cnt = g[s].inputs[1];
    if (!c.is(sm, OpKind::Softmax) || !c.is(hot, OpKind::OneHot) ||
        !c.is(cnt, OpKind::Count) || g[cnt].axis != 0)
      continue;
    NodeId z = g[sm].inputs[0];
    const TensorType &zt = c.type(z);
    if (zt.rank() != 2 || c.type(g[cnt].inputs[0]).dims != zt.dims ||
        g[hot].classes != zt.dims[1] || !c.type(dl).isScalar() ||
        c.type(m).dims != zt.dims)
      continue;
    return {z, g[hot].inputs[0], dl, sm};
  }
  return {};
}

} // namespace

Graph fuseSoftmaxXent(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "softmax-xent";
  std::set<std::pair<NodeId, NodeId>> done; // (z, y) pairs fused
  for (NodeId m = 0; m < g.size(); ++m) {
    if (!c.live[m])
      continue;
    Match r = matchGrad(c, m);
    if (r.z < 0)
      continue;
    rewriteAs(out[m], OpKind::SoftmaxXentGrad, {r.z, r.y, r.g});
    done.insert({r.z, r.y});
    std::string text = c.who(m) + " = (softmax(" + c.who(r.z) +
                       ") - onehot(" + c.who(r.y) + ")) * " + c.who(r.g) +
                       " / rows -> fused.softmax_xent_grad";
    if (c.uses[r.softmax] > 1)
      text += "; softmax " + c.who(r.softmax) + " kept (" + c.usersStr(r.softmax) + ")";
    log.add(kName, true, text);
  }
  for (NodeId l = 0; l < g.size(); ++l)
    if (c.live[l] && c.is(l, OpKind::SoftmaxCrossEntropy) &&
        !done.count({g[l].inputs[0], g[l].inputs[1]}))
      log.add(kName, false,
              c.who(l) + ": not fused: no gradient of this loss in the graph");
  return out;
}

} // namespace nn
