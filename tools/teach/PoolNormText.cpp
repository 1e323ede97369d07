//===- PoolNormText.cpp - Textbook equations of pooling and batch norm ----===//
///
/// \file
/// What `nnc explain` writes above a pooling's and a batch norm's
/// equations: the forward in index form with the window's numbers, the
/// output size, and the backward as ir/Ops.def defines the gradient ops
/// (max pooling routes each gradient to its window's first maximum,
/// average pooling spreads it evenly; batch norm's per-channel statistics,
/// its evaluation form and batch_normalize_grad).
///
/// Algorithm: match maxpool2d / avgpool2d, or batch_normalize followed by
/// channel_affine by Params, among the nodes of one source line; read the
/// window from Node::win and the sizes from the types.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/LayerText.h"

#include "ir/Printer.h"

#include <fmt/format.h>

namespace nn {

namespace {

std::string valueName(const Node &n) { return n.name.empty() ? "X" : n.name; }

/// "over n, h, w (N x 6 x 6 values)" for [N,C,6,6]; "over n (N values)"
/// for [N,C].
std::string perChannelText(const TensorType &t) {
  std::string axes = "n", count = "N";
  const char *names[] = {"h", "w", "d"};
  for (size_t d = 2; d < t.dims.size(); ++d) {
    axes += std::string(", ") + names[std::min<size_t>(d - 2, 2)];
    count += " x " + std::to_string(t.dims[d]);
  }
  return "over " + axes + ": " + count + " values per channel";
}

/// "X[:,c,:,:]" for rank 4, "X[:,c]" for rank 2.
std::string channelSlice(const TensorType &t) {
  std::string s = "X[:,c";
  for (size_t d = 2; d < t.dims.size(); ++d)
    s += ",:";
  return s + "]";
}

} // namespace

std::string poolText(const Graph &g, const std::vector<NodeId> &ids) {
  for (NodeId id : ids) {
    const Node &n = g[id];
    bool isMax = n.op == OpKind::MaxPool2d;
    if ((!isMax && n.op != OpKind::AvgPool2d) || n.type.rank() != 4)
      continue;
    const Window &w = n.win;
    const Node &x = g[n.inputs[0]];
    std::string xi = fmt::format("X[n,c,{},{}]", tapIndexText(w, 0, "i", "p"),
                                 tapIndexText(w, 1, "j", "q"));
    int64_t size = w.kernel[0] * w.kernel[1];
    std::string os =
        fmt::format("  {} pooling: X = {} {} -> Y {};  {};  no parameters\n"
                    "    forward:   Y[n,c,i,j] = ",
                    isMax ? "max" : "average", valueName(x), x.type.str(),
                    n.type.str(), windowText(n));
    bool padded = w.padding[0] || w.padding[1];
    if (isMax)
      os += fmt::format("max over p < {}, q < {} of {}{}\n", w.kernel[0],
                        w.kernel[1], xi,
                        padded ? "  (the padding never wins)" : "");
    else
      os += fmt::format("(sum over p < {}, q < {} of {}) / {}{}\n", w.kernel[0],
                        w.kernel[1], xi, size,
                        padded ? "  (the padding counted, as 0)" : "");
    os += fmt::format(
        "               output size: ({} + 2*{} - {}) / {} + 1 = {} rows, "
        "({} + 2*{} - {}) / {} + 1 = {} columns\n",
        x.type.dims[2], w.padding[0], w.kernel[0], w.stride[0], n.type.dims[2],
        x.type.dims[3], w.padding[1], w.kernel[1], w.stride[1], n.type.dims[3]);
    if (isMax)
      return os +
             fmt::format("    backward:  dX[n,c,h,w] = the sum of dY[n,c,i,j] "
                         "over the windows (i,j) whose first maximum (in "
                         "row-major order) is X[n,c,h,w], else 0:\n"
                         "               each gradient is routed to its "
                         "window's max, the other inputs get none "
                         "(maxpool2d_grad)\n");
    return os + fmt::format("    backward:  {} += dY[n,c,i,j] / {} for every "
                            "i, j, p, q: each gradient spread evenly over "
                            "its window (avgpool2d_grad)\n",
                            "dX" + xi.substr(1), size);
  }
  return "";
}

std::string batchNormText(const Graph &g, const std::vector<NodeId> &ids) {
  for (NodeId id : ids) {
    const Node &bn = g[id];
    if (bn.op != OpKind::BatchNormalize)
      continue;
    NodeId aff = -1;
    for (NodeId u : ids)
      if (g[u].op == OpKind::ChannelAffine && g[u].inputs[0] == id &&
          g[u].inputs.size() == 3 && g[g[u].inputs[1]].op == OpKind::Param &&
          g[g[u].inputs[2]].op == OpKind::Param)
        aff = u;
    if (aff < 0)
      continue;
    const Node &x = g[bn.inputs[0]];
    const Node &gamma = g[g[aff].inputs[1]], &beta = g[g[aff].inputs[2]];
    const Node &rm = g[bn.inputs[1]], &rv = g[bn.inputs[2]];
    std::string xs = channelSlice(x.type);
    std::string os = fmt::format(
        "  batch norm: X = {} {} -> Y {};  gamma = {} {},  beta = {} {},  "
        "eps = {}\n"
        "    forward:   mu[c] = mean of {},  var[c] = mean of ({} - "
        "mu[c])^2  ({}; var biased)\n"
        "               Xh = (X - mu[c]) / sqrt(var[c] + eps),  Y = Xh * "
        "gamma[c] + beta[c]\n"
        "               {} and {} move toward mu and the unbiased var by "
        "the momentum (the updates below)\n"
        "    evaluation: Y = (X - {}[c]) / sqrt({}[c] + eps) * gamma[c] + "
        "beta[c]: one channel_affine (nnc eval, predict)\n"
        "    backward:  dgamma[c] = sum of dY * Xh,  dbeta[c] = sum of dY  "
        "(channel_sum, per channel),  dXh = dY * gamma[c],\n               ",
        valueName(x), x.type.str(), g[aff].type.str(), gamma.name,
        gamma.type.str(), beta.name, beta.type.str(), formatDouble(bn.param),
        xs, xs, perChannelText(x.type), rm.name, rv.name, rm.name, rv.name);
    if (x.op == OpKind::Input)
      return os + "dX is not computed: X is the input, it needs no "
                  "gradient\n";
    return os + "dX = (dXh - mean(dXh) - Xh * mean(dXh * Xh)) / sqrt(var[c] "
                "+ eps)  (batch_normalize_grad, means per channel)\n";
  }
  return "";
}

} // namespace nn
