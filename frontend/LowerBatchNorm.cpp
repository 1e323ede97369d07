//===- LowerBatchNorm.cpp - batch_norm: the layer to graph nodes ----------===//
///
/// \file
/// Algorithm: `b1 = batch_norm(x)` on x [N,C,...] (an image [N,C,H,W] as
/// nn.BatchNorm2d, or [N,C] as nn.BatchNorm1d) makes, as nn.BatchNorm2d's
/// state_dict names and shapes them, the params b1.weight [C] (ones) and
/// b1.bias [C] (zeros), neither an L2 weight, and the buffers
/// b1.running_mean [C] (zeros), b1.running_var [C] (ones) and
/// b1.num_batches_tracked (a scalar, zero): Param leaves marked `buffer`.
/// The layer is the training form
///   xh = batch_normalize(x, running_mean, running_var)   {eps}
///   b1 = channel_affine(xh, weight, bias)
/// (the evaluation form, passes/EvalForm.cpp, swaps batch_normalize for the
/// running statistics), and three updates of the forward graph write the
/// running statistics after each training step, as PyTorch does:
///   running_mean <- (1 - m) * running_mean + m * channel_mean(x)
///   running_var  <- (1 - m) * running_var  + m * channel_var(x) (unbiased)
///   num_batches_tracked <- num_batches_tracked + 1
/// with m the momentum (0.1) and eps 1e-5 unless the keywords say
/// otherwise.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"

namespace nn {

namespace {

/// PyTorch's nn.BatchNorm2d defaults.
constexpr double kBatchNormEps = 1e-5;
constexpr double kBatchNormMomentum = 0.1;

} // namespace

NodeId ExprLowerer::lowerBatchNorm(const std::string &name, const Expr &call) {
  bool ok = checkArgs(call, 1, {"eps", "momentum"});
  double eps = kBatchNormEps, momentum = kBatchNormMomentum;
  if (const KwArg *k = call.kwarg("eps")) {
    if (!k->value->constant(eps) || !(eps > 0) || !fitsF32(*k->value, eps)) {
      diags.error(spanOf(*k->value), "eps must be a positive number, as in "
                                     "'batch_norm(c1, eps = 1e-5)'");
      ok = false;
    }
  }
  if (const KwArg *k = call.kwarg("momentum")) {
    if (!k->value->constant(momentum) || !(momentum >= 0 && momentum <= 1)) {
      diags.error(spanOf(*k->value),
                  "momentum must be a number in [0, 1], as in "
                  "'batch_norm(c1, momentum = 0.1)'");
      ok = false;
    }
  }
  if (!ok)
    return kPoison;
  NodeId x = lowerExpr(*call.args[0]);
  if (x == kPoison)
    return kPoison;
  SrcLoc xloc = spanOf(*call.args[0]);
  const TensorType &xt = g[x].type;
  if (!xt.known) {
    diags.error(xloc, "cannot tell the shape of the input of 'batch_norm'");
    explainUnknown(x, xloc);
    return kPoison;
  }
  bool channels = xt.dtype == DType::F32 && xt.rank() >= 2 &&
                  xt.dims[0] == kBatch;
  for (size_t i = 1; channels && i < xt.dims.size(); ++i)
    channels = xt.dims[i] != kBatch;
  if (!channels) {
    diags.error(xloc, "'batch_norm' normalizes each channel of a batch "
                      "f32[N,C,H,W] or f32[N,C], but its input has type " +
                          xt.str());
    return kPoison;
  }
  int64_t c = xt.dims[1];

  auto param = [&](const char *suffix, std::vector<int64_t> dims, double one,
                   bool buffer) {
    Node p = makeNode(OpKind::Param, {}, call.loc);
    p.name = name + suffix;
    p.type = TensorType::of(dims);
    p.init.kind = one != 0 ? InitKind::Constant : InitKind::Zeros;
    p.init.a = one;
    p.buffer = buffer;
    return g.add(std::move(p));
  };
  NodeId w = param(".weight", {c}, 1, false);
  NodeId b = param(".bias", {c}, 0, false);
  NodeId rm = param(".running_mean", {c}, 0, true);
  NodeId rv = param(".running_var", {c}, 1, true);
  NodeId nbt = param(".num_batches_tracked", {}, 0, true);

  Node norm = makeNode(OpKind::BatchNormalize, {x, rm, rv}, call.loc);
  norm.param = eps;
  norm.name = name + ".normalize";
  NodeId xh = addSpatial(std::move(norm), call.loc);
  NodeId y = addSpatial(makeNode(OpKind::ChannelAffine, {xh, w, b}, call.loc),
                        call.loc);
  if (y == kPoison)
    return kPoison;
  g[y].name = name;

  // The running statistics: new = (1 - m) * old + m * batch statistic.
  auto constant = [&](double v) {
    Node k = makeNode(OpKind::Const, {}, call.loc);
    k.values = {v};
    k.type = TensorType::scalar();
    return g.add(std::move(k));
  };
  auto runningUpdate = [&](NodeId old, OpKind stat, const char *what) {
    Node s = makeNode(stat, {x}, call.loc);
    s.name = name + what;
    NodeId batch = addSpatial(std::move(s), call.loc);
    NodeId keep = add(OpKind::Mul, {constant(1 - momentum), old}, call.loc);
    NodeId take = add(OpKind::Mul, {constant(momentum), batch}, call.loc);
    NodeId value = add(OpKind::Add, {keep, take}, call.loc);
    g[value].name = g[old].name + ".next";
    g.updates.push_back({old, value});
  };
  runningUpdate(rm, OpKind::ChannelMean, ".batch_mean");
  runningUpdate(rv, OpKind::ChannelVar, ".batch_var");
  NodeId count = add(OpKind::Add, {nbt, constant(1)}, call.loc);
  g[count].name = g[nbt].name + ".next";
  g.updates.push_back({nbt, count});
  return y;
}

} // namespace nn
