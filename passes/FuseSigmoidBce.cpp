//===- FuseSigmoidBce.cpp - Sigmoid + binary cross-entropy gradient -------===//
///
/// \file
/// Algorithm: the forward loss bce_logits(z, y) is already one op (stable).
/// Its gradient, as autodiff writes it,
///   mul(sub(sigmoid(z), y'), div(g, count(z)))
/// where y' is the label y itself or y reshaped to z's shape
/// (transpose(expand(y, transpose(z))): the same elements in the same
/// order), is matched at the mul and rewritten in place as
/// fused.sigmoid_bce_grad z, y, g. Every bce_logits node is a candidate in
/// the log; a sigmoid that other nodes still use (the `pred` output) is
/// kept and said so.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"

#include <set>

namespace nn {

namespace {

struct Match {
  NodeId z = -1, y = -1, g = -1, sigmoid = -1;
};

/// `t` with reshapes of the kind autodiff makes ([N] -> [N,1]) looked
/// through: the node holding the same elements in the same order.
NodeId throughReshape(const FuseContext &c, NodeId t) {
  const Graph &g = c.g;
  if (c.is(t, OpKind::Transpose) && c.type(t).rank() == 2 &&
      c.type(t).dims[1] == 1) {
    NodeId e = g[t].inputs[0];
    if (c.is(e, OpKind::Expand) && c.type(e).rank() == 2 &&
        c.type(e).dims[0] == 1 && c.type(g[e].inputs[0]).rank() == 1)
      return g[e].inputs[0];
  }
  return t;
}

Match matchGrad(const FuseContext &c, NodeId m) {
  const Graph &g = c.g;
  if (!c.is(m, OpKind::Mul))
    return {};
  for (int k = 0; k < 2; ++k) {
    NodeId d = g[m].inputs[k], s = g[m].inputs[1 - k];
    if (!c.is(d, OpKind::Sub) || !c.is(s, OpKind::Div))
      continue;
    NodeId sg = g[d].inputs[0];
    NodeId dl = g[s].inputs[0], cnt = g[s].inputs[1];
    if (!c.is(sg, OpKind::Sigmoid) || !c.is(cnt, OpKind::Count) ||
        g[cnt].axis != -1)
      continue;
    NodeId z = g[sg].inputs[0];
    NodeId y = throughReshape(c, g[d].inputs[1]);
    const TensorType &zt = c.type(z), &yt = c.type(y);
    if (c.type(g[cnt].inputs[0]).dims != zt.dims || !c.type(dl).isScalar() ||
        c.type(m).dims != zt.dims || yt.dtype != DType::F32 ||
        yt.hasBatch() != zt.hasBatch() ||
        yt.numelPerSample() != zt.numelPerSample())
      continue;
    return {z, y, dl, sg};
  }
  return {};
}

} // namespace

Graph fuseSigmoidBce(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "sigmoid-bce";
  std::set<NodeId> done; // logits whose gradient fused
  for (NodeId m = 0; m < g.size(); ++m) {
    if (!c.live[m])
      continue;
    Match r = matchGrad(c, m);
    if (r.z < 0)
      continue;
    rewriteAs(out[m], OpKind::SigmoidBceGrad, {r.z, r.y, r.g});
    done.insert(r.z);
    std::string text = c.who(m) + " = (sigmoid(" + c.who(r.z) + ") - " +
                       c.who(r.y) + ") * " + c.who(r.g) +
                       " / count -> fused.sigmoid_bce_grad";
    if (c.uses[r.sigmoid] > 1)
      text += "; sigmoid " + c.who(r.sigmoid) + " kept (" + c.usersStr(r.sigmoid) + ")";
    log.add(kName, true, text);
  }
  for (NodeId l = 0; l < g.size(); ++l)
    if (c.live[l] && c.is(l, OpKind::BceLogits) && !done.count(g[l].inputs[0]))
      log.add(kName, false,
              c.who(l) + ": not fused: no gradient of this loss in the graph");
  return out;
}

} // namespace nn
