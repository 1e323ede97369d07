//===- ConvText.cpp - Textbook equations of a convolution -----------------===//
///
/// \file
/// What `nnc explain` writes above a conv2d layer's equations: the forward
/// sum in index form with the layer's own kernel, stride, padding and
/// dilation written into the indices (X[n,c,i+p-1,j+q-1] for padding 1),
/// the output size formula with the layer's numbers, the backward as
/// ir/Ops.def defines the gradient ops (dW the correlation of X and dZ, db
/// the sum of dZ, dX the transposed convolution), and how often each weight
/// is used: at every output position, which is why 6 x params undercounts
/// a CNN's FLOPs (convReuseText, also in `nnc summary`).
///
/// Algorithm: match conv2d(value, weight Param[, bias Param]) among the
/// nodes of one source line, and an activation op reading it; read the
/// window from Node::win and the sizes from the types.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/FormulaText.h"
#include "tools/teach/LayerText.h"

#include "ir/Attributes.h"
#include "ir/Format.h"
#include "ir/Printer.h"

#include <fmt/format.h>

namespace nn {

namespace {

/// "3x3", or "3" when `square` is asked for and both are equal.
std::string pairText(const int64_t (&v)[2], bool square) {
  if (square && v[0] == v[1])
    return std::to_string(v[0]);
  return std::to_string(v[0]) + "x" + std::to_string(v[1]);
}

/// "(28 + 2*1 - 3) / 1 + 1 = 28" for axis `a` of an input of size `in`.
std::string outSizeText(const Window &w, int a, int64_t in) {
  std::string span =
      w.dilation[a] == 1
          ? std::to_string(w.kernel[a])
          : fmt::format("{}*({} - 1) - 1", w.dilation[a], w.kernel[a]);
  return fmt::format("({} + 2*{} - {}) / {} + 1 = {}", in, w.padding[a], span,
                     w.stride[a], w.outSize(a, in));
}

/// The output size lines of a window on an image of `h` x `w`.
std::string outSizesText(const Window &win, int64_t h, int64_t w) {
  if (h == w && win.kernel[0] == win.kernel[1] &&
      win.stride[0] == win.stride[1] && win.padding[0] == win.padding[1] &&
      win.dilation[0] == win.dilation[1])
    return "output size: " + outSizeText(win, 0, h) +
           " per axis, (in + 2 padding - kernel) / stride + 1";
  return "output size: " + outSizeText(win, 0, h) + " rows, " +
         outSizeText(win, 1, w) + " columns";
}

bool isParam(const Graph &g, NodeId id) { return g[id].op == OpKind::Param; }

} // namespace

std::string tapIndexText(const Window &w, int a, const char *i, const char *p) {
  std::string s = w.stride[a] == 1 ? i : std::to_string(w.stride[a]) + i;
  s += "+" + (w.dilation[a] == 1 ? std::string(p)
                                 : std::to_string(w.dilation[a]) + p);
  if (w.padding[a] > 0)
    s += "-" + std::to_string(w.padding[a]);
  return s;
}

std::string windowText(const Node &n) {
  std::string s;
  if (hasWindow(n.op)) {
    const Window &w = n.win;
    s = fmt::format("kernel {}, stride {}, padding {}",
                    pairText(w.kernel, false), pairText(w.stride, true),
                    pairText(w.padding, true));
    if (w.dilation[0] != 1 || w.dilation[1] != 1)
      s += ", dilation " + pairText(w.dilation, true);
    if (w.groups != 1)
      s += fmt::format(", groups {}", w.groups);
  }
  if (takesActivation(n.op) && n.act != Activation::None)
    s += std::string(s.empty() ? "" : ", ") + "act " + activationName(n.act);
  return s;
}

double convMultiplyAdds(const Graph &g, NodeId id) {
  const Node &n = g[id];
  if (family(n.op) != OpFamily::Spatial)
    return 0;
  auto taps = [&](int64_t inChannels) {
    return static_cast<double>(inChannels / n.win.groups * n.win.kernel[0] *
                               n.win.kernel[1]);
  };
  auto perSample = [&](NodeId v) {
    return static_cast<double>(g[v].type.numelPerSample());
  };
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d:
    return perSample(id) * taps(g[n.inputs[0]].type.dims[1]);
  case SpatialOp::Conv2dGradInput:
    return perSample(n.inputs[0]) * taps(n.shape[1]);
  case SpatialOp::Conv2dGradWeight:
    return perSample(n.inputs[1]) * taps(g[n.inputs[0]].type.dims[1]);
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
  case SpatialOp::ChannelAffine:
  case SpatialOp::BatchNormalize:
  case SpatialOp::BatchNormalizeGrad:
  case SpatialOp::MaxPool2d:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2d:
  case SpatialOp::AvgPool2dGrad:
    return 0;
  }
  NN_UNREACHABLE("bad SpatialOp");
}

std::vector<ConvReuse> convReuse(const Graph &g) {
  std::vector<ConvReuse> out;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op != OpKind::Conv2d || !isParam(g, n.inputs[1]) ||
        n.type.rank() != 4)
      continue;
    ConvReuse r;
    r.name = g[n.inputs[1]].name;
    r.weights = g[n.inputs[1]].type.numel();
    r.positions = n.type.dims[2] * n.type.dims[3];
    r.multiplyAdds = convMultiplyAdds(g, id);
    out.push_back(r);
  }
  return out;
}

std::string convReuseText(const Graph &g, const std::string &indent) {
  std::vector<ConvReuse> rs = convReuse(g);
  if (rs.empty())
    return "";
  double weights = 0, macs = 0;
  std::string os = indent +
                   "a convolution uses each weight at every output position "
                   "(H_out x W_out times per sample), not once:\n";
  for (const ConvReuse &r : rs) {
    os +=
        fmt::format("{}  {}: {} weights x {} positions = {} multiply-adds "
                    "per sample forward\n",
                    indent, r.name, withCommas(static_cast<double>(r.weights)),
                    withCommas(static_cast<double>(r.positions)),
                    withCommas(r.multiplyAdds));
    weights += static_cast<double>(r.weights);
    macs += r.multiplyAdds;
  }
  return os + fmt::format("{}so the convolutions do {:.1f} x as many "
                          "multiply-adds as they have weights ({} for {}), "
                          "and 6 x params,\n{}which counts one per weight, "
                          "undercounts them by that factor (the backward, "
                          "dW and dX, likewise)\n",
                          indent, macs / weights, withCommas(macs),
                          withCommas(weights), indent);
}

namespace {

/// A matched conv2d layer: the conv node, its activation (an op reading it,
/// or the one fusion folded in), and the texts its lines share.
struct ConvLayer {
  NodeId conv = -1, out = -1;
  std::optional<Activation> act;
  double slope = 0;      ///< leaky_relu's
  std::string f;         ///< the activation's name, or ""
  std::string slopeText; ///< ", 0.2" for leaky_relu, else ""
  std::string xIdx;      ///< "X[n,c,i+p-1,j+q-1]"
};

std::optional<ConvLayer> findConv(const Graph &g,
                                  const std::vector<NodeId> &ids) {
  ConvLayer l;
  for (NodeId id : ids)
    if (g[id].op == OpKind::Conv2d && isParam(g, g[id].inputs[1]) &&
        g[id].type.rank() == 4) {
      l.conv = l.out = id;
      break;
    }
  if (l.conv < 0)
    return std::nullopt;
  const Node &c = g[l.conv];
  for (NodeId u : ids)
    if (activationOf(g[u].op) && g[u].inputs[0] == l.conv) {
      l.out = u;
      l.act = activationOf(g[u].op);
      l.slope = g[u].param;
    }
  if (!l.act && c.act != Activation::None) {
    l.act = c.act;
    l.slope = c.param;
  }
  if (l.act) {
    l.f = activationName(*l.act);
    if (hasSlope(opOf(activationOp(*l.act))))
      l.slopeText = ", " + formatDouble(l.slope);
  }
  l.xIdx = fmt::format("X[n,c,{},{}]", tapIndexText(c.win, 0, "i", "p"),
                       tapIndexText(c.win, 1, "j", "q"));
  return l;
}

/// The head line and the forward: the sum in index form, the output size.
std::string convForwardText(const Graph &g, const ConvLayer &l) {
  const Node &c = g[l.conv];
  const Window &win = c.win;
  const Node &x = g[c.inputs[0]], &w = g[c.inputs[1]];
  bool hasBias = c.inputs.size() > 2;
  int64_t cg = w.type.dims[1];
  std::string os =
      fmt::format("  conv layer: X = {} {} -> {} {};  W = {} {}{};  {}\n",
                  x.name.empty() ? "X" : x.name, x.type.str(),
                  l.act ? "A" : "Z", g[l.out].type.str(), w.name, w.type.str(),
                  hasBias ? fmt::format(",  b = {} {}", g[c.inputs[2]].name,
                                        g[c.inputs[2]].type.str())
                          : "",
                  windowText(c));
  std::string channels =
      win.groups == 1 ? fmt::format("c < {}", cg)
                      : fmt::format("the {} channels c of o's group (of {})",
                                    cg, win.groups);
  return os + fmt::format(
                  "    forward:   Z[n,o,i,j] = {}sum over {}, p < {}, q < {} "
                  "of W[o,c,p,q] * {}{}{}\n"
                  "               {}\n",
                  hasBias ? "b[o] + " : "", channels, win.kernel[0],
                  win.kernel[1], l.xIdx,
                  win.padding[0] || win.padding[1] ? "  (X is 0 in the padding)"
                                                   : "",
                  l.act ? ",  A = " + l.f + "(Z" + l.slopeText + ")" : "",
                  outSizesText(win, x.type.dims[2], x.type.dims[3]));
}

/// The backward (dZ, db, dW, dX, act') and how often each weight is used.
std::string convBackwardText(const Graph &g, const ConvLayer &l, double l2) {
  const Node &c = g[l.conv];
  const Node &x = g[c.inputs[0]], &w = g[c.inputs[1]];
  std::string os = "    backward:  ";
  if (l.act)
    os += fmt::format("dZ = dA * {}'(Z),  ", l.f);
  if (c.inputs.size() > 2)
    os += "db[o] = sum over n, i, j of dZ[n,o,i,j]  (channel_sum),";
  os += fmt::format(
      "\n               dW[o,c,p,q] = sum over n, i, j of {} * dZ[n,o,i,j]  "
      "(the correlation of X and dZ: conv2d_grad_weight){},\n",
      l.xIdx, l2 > 0 && w.isWeight ? " + 2 lambda W (L2)" : "");
  if (x.op == OpKind::Input)
    os += "               dX is not computed: X is the input, it needs no "
          "gradient\n";
  else
    os += fmt::format(
        "               dX[n,c,{},{}] += W[o,c,p,q] * dZ[n,o,i,j] for every "
        "o, i, j, p, q  (a transposed convolution: each dZ spread back "
        "through the kernel; conv2d_grad_input)\n",
        tapIndexText(c.win, 0, "i", "p"), tapIndexText(c.win, 1, "j", "q"));
  if (l.act)
    os += fmt::format("               {}'(Z) = {}\n", l.f,
                      activationGradText(*l.act, l.slope));
  int64_t positions = c.type.dims[2] * c.type.dims[3];
  return os + fmt::format(
                  "    reuse:     each of the {} weights is used at {} x {} = "
                  "{} output positions per sample: {} multiply-adds (a dense "
                  "layer uses each weight once)\n",
                  withCommas(static_cast<double>(w.type.numel())),
                  c.type.dims[2], c.type.dims[3],
                  withCommas(static_cast<double>(positions)),
                  withCommas(convMultiplyAdds(g, l.conv)));
}

} // namespace

std::string convLayerText(const Graph &g, const std::vector<NodeId> &ids,
                          double l2) {
  std::optional<ConvLayer> l = findConv(g, ids);
  if (!l)
    return "";
  return convForwardText(g, *l) + convBackwardText(g, *l, l2);
}

} // namespace nn
