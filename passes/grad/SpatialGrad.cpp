//===- SpatialGrad.cpp - Gradient rules of the spatial ops ----------------===//
///
/// \file
/// Algorithm: each forward spatial op's rule builds the gradient ops that
/// ir/Ops.def defines for it, with the forward node's window (and, where the
/// output size alone does not give the input's, the input's dims in
/// Node::shape):
///   conv2d(x, w, b):     dx = conv2d_grad_input(dy, w), a transposed
///                        convolution; dw = conv2d_grad_weight(x, dy), the
///                        correlation of input and output gradient;
///                        db = channel_sum(dy)
///   maxpool2d(x):        dx = maxpool2d_grad(dy, x), dy routed to the max
///   avgpool2d(x):        dx = avgpool2d_grad(dy), dy spread over the window
///   channel_affine(x, s, t): dx = channel_affine(dy, s),
///                        ds = channel_sum(dy * x), dt = channel_sum(dy)
///   batch_normalize(x, rm, rv): dx = batch_normalize_grad(dy, x); the
///                        running statistics are buffers, not differentiated
/// Autodiff runs before fusion, so a conv2d has no activation here. The
/// gradient ops and the channel statistics have no rule: they appear only
/// after autodiff, or in batch norm's running statistics (which no loss
/// reads); a graph given by hand that differentiates one gets a located
/// error, as a fused op does.
///
//===----------------------------------------------------------------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

namespace {

/// `where: error: what` with the node's location when it has one.
[[noreturn]] void fail(const Node &n, const std::string &what) {
  throw UserError((n.loc.valid() ? n.loc.str() + ": " : std::string()) +
                  "error: " + what);
}

/// The spatial op `k` of operands `in` with window `win` (and Node::shape
/// `shape`), typed by the builder.
NodeId windowed(GradContext &c, OpKind k, std::vector<NodeId> in,
                const Window &win, std::vector<int64_t> shape = {}) {
  Node n = makeNode(k, std::move(in));
  n.win = win;
  n.shape = std::move(shape);
  return c.b.typed(std::move(n));
}

} // namespace

void spatialGrad(GradContext &c, NodeId id, NodeId dy) {
  // A copy: building nodes may move c.g's nodes.
  const Node n = c.g[id];
  const std::vector<NodeId> &in = n.inputs;
  const NodeId x = in[0];
  switch (member<SpatialOp>(n.op)) {
  // y[n,o,i,j] = b[o] + sum w[o,c,p,q] * x[n,c,i*s-pad+p*dil,j*s-pad+q*dil]:
  // each x element meets every w element whose window covers it (dx, the
  // transposed convolution); each w element meets the x elements under it
  // at every output position (dw, the correlation); b meets every output of
  // its channel (db).
  case SpatialOp::Conv2d: {
    if (n.act != Activation::None)
      fail(n, std::string("'conv2d' with the fused activation '") +
                  activationName(n.act) +
                  "' is a fused op, which autodiff does not differentiate "
                  "(fusion runs after it)\nnnc: help: give the unfused "
                  "graph, as `nnc emit --stage=opt` writes it");
    const NodeId w = in[1], b = in.size() > 2 ? in[2] : -1;
    if (c.wants(x))
      c.contribute(x, windowed(c, OpKind::Conv2dGradInput, {dy, w}, n.win,
                               c.type(x).dims));
    if (c.wants(w))
      c.contribute(w, windowed(c, OpKind::Conv2dGradWeight, {x, dy}, n.win));
    if (c.wants(b))
      c.contribute(b, c.b.op(OpKind::ChannelSum, {dy}));
    return;
  }
  // The window's first maximum takes dy; the others get 0.
  case SpatialOp::MaxPool2d:
    if (c.wants(x))
      c.contribute(x, windowed(c, OpKind::MaxPool2dGrad, {dy, x}, n.win));
    return;
  // Each element of the window gets dy / (kernel area), padding counted.
  case SpatialOp::AvgPool2d:
    if (c.wants(x))
      c.contribute(x, windowed(c, OpKind::AvgPool2dGrad, {dy}, n.win,
                               c.type(x).dims));
    return;
  // y = x * s[c] + t[c]: dx = dy * s[c]; ds[c] and dt[c] sum dy * x and dy
  // over every axis but the channel's.
  case SpatialOp::ChannelAffine: {
    const NodeId s = in[1], t = in.size() > 2 ? in[2] : -1;
    if (c.wants(x))
      c.contribute(x, c.b.op(OpKind::ChannelAffine, {dy, s}));
    if (c.wants(s))
      c.contribute(s, c.b.op(OpKind::ChannelSum,
                             {c.binary(OpKind::Mul, dy, x)}));
    if (c.wants(t))
      c.contribute(t, c.b.op(OpKind::ChannelSum, {dy}));
    return;
  }
  // The batch statistics depend on x: the rule in one op (Ops.def), eps
  // carried along. The running mean and variance (operands 1 and 2) are
  // buffers that the op does not read.
  case SpatialOp::BatchNormalize:
    if (c.wants(x)) {
      NodeId dx = c.b.op(OpKind::BatchNormalizeGrad, {dy, x});
      c.g[dx].param = n.param;
      c.contribute(x, dx);
    }
    return;
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::ChannelSum:
  case SpatialOp::BatchNormalizeGrad:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad:
    fail(n, std::string("'") + mnemonic(n.op) +
                "' is a gradient op, which autodiff does not differentiate "
                "(nnc differentiates once)\nnnc: help: give the forward "
                "graph, as `nnc emit --stage=ir` writes it");
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    fail(n, std::string("'") + mnemonic(n.op) +
                "' computes batch norm's running statistics, which autodiff "
                "does not differentiate (no loss may read them)");
  }
  NN_UNREACHABLE("bad SpatialOp");
}

} // namespace nn
