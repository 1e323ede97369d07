//===- NormText.cpp - Textbook equations of layer_norm --------------------===//
///
/// \file
/// What `nnc explain` writes above a layer_norm's equations: the forward
/// (mean and biased variance of each sample's last axis, the normalized
/// value, the scale and shift) and the backward normalize_grad computes
/// (ir/Ops.def), with the layer's own names, shapes and eps.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/LayerText.h"

#include "ir/Printer.h"

#include <fmt/format.h>

namespace nn {

namespace {

/// The matched nodes of a layer_norm: normalize, the scale, the shift.
struct NormNodes {
  NodeId norm = -1, mul = -1, add = -1;
};

/// The node among `ids` of op `op` whose operand 0 is `in` and operand 1 a
/// Param, or -1.
NodeId useWithParam(const Graph &g, const std::vector<NodeId> &ids, OpKind op,
                    NodeId in) {
  for (NodeId u : ids)
    if (g[u].op == op && g[u].inputs.size() == 2 && g[u].inputs[0] == in &&
        g[g[u].inputs[1]].op == OpKind::Param)
      return u;
  return -1;
}

std::optional<NormNodes> findNorm(const Graph &g,
                                  const std::vector<NodeId> &ids) {
  for (NodeId id : ids) {
    if (g[id].op != OpKind::Normalize)
      continue;
    NormNodes n{id};
    n.mul = useWithParam(g, ids, OpKind::Mul, id);
    if (n.mul >= 0)
      n.add = useWithParam(g, ids, OpKind::Add, n.mul);
    if (n.add >= 0)
      return n;
  }
  return std::nullopt;
}

} // namespace

std::string layerNormText(const Graph &g, const std::vector<NodeId> &ids) {
  std::optional<NormNodes> n = findNorm(g, ids);
  if (!n)
    return "";
  const Node &norm = g[n->norm];
  const Node &x = g[norm.inputs[0]];
  const Node &w = g[g[n->mul].inputs[1]];
  const Node &b = g[g[n->add].inputs[1]];
  std::string xName = x.name.empty() ? "X" : x.name;
  std::string os = fmt::format(
      "  layer norm: X = {} {} -> Y {};  gamma = {} {},  beta = {} {},  "
      "eps = {}\n"
      "    forward:   mu = mean(X),  var = mean((X - mu)^2)  (over the last "
      "axis, per sample)\n"
      "               Xh = (X - mu) / sqrt(var + eps),  Y = Xh * gamma + "
      "beta\n"
      "    backward:  dgamma = sum over the batch of dY * Xh,  dbeta = sum "
      "over the batch of dY,\n"
      "               dXh = dY * gamma,  ",
      xName, x.type.str(), g[n->add].type.str(), w.name, w.type.str(), b.name,
      b.type.str(), formatDouble(norm.param));
  if (x.op == OpKind::Input)
    return os + "dX is not computed: X is the input, it needs no gradient\n";
  return os + "dX = (dXh - mean(dXh) - Xh * mean(dXh * Xh)) / sqrt(var + "
              "eps)  (normalize_grad)\n";
}

} // namespace nn
