//===- LowerNorm.cpp - layer_norm: the layer to graph nodes ---------------===//
///
/// \file
/// Algorithm: `n = layer_norm(h)` becomes normalize(h) over the last axis
/// (eps in Node::param, 1e-5 unless `eps = ...` says otherwise), times the
/// param n.weight (ones, [D]) plus the param n.bias (zeros, [D]): ordinary
/// broadcasting ops, named and shaped as nn.LayerNorm's state_dict. Neither
/// param is an L2 weight (PyTorch users exclude norm weights from decay;
/// the lecture's l2 takes the weights of matrix products).
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "ir/Support.h"

namespace nn {

namespace {

/// PyTorch's nn.LayerNorm default.
constexpr double kLayerNormEps = 1e-5;

} // namespace

std::optional<double> ExprLowerer::layerNormEps(const Expr &call) {
  const KwArg *k = call.kwarg("eps");
  if (!k)
    return kLayerNormEps;
  double v = 0;
  if (!k->value->constant(v) || !(v > 0) || !fitsF32(*k->value, v)) {
    diags.error(spanOf(*k->value), "eps must be a positive number, as in "
                                   "'layer_norm(h, eps = 1e-5)'");
    return std::nullopt;
  }
  return v;
}

/// The width D of layer_norm's input `xt` (its last axis), or nullopt after
/// an error at `xloc`.
std::optional<int64_t> ExprLowerer::layerNormWidth(NodeId x,
                                                   const SrcLoc &xloc) {
  const TensorType &xt = g[x].type;
  if (!xt.known) {
    diags.error(xloc, "cannot tell the width of the input of 'layer_norm'");
    explainUnknown(x, xloc);
    return std::nullopt;
  }
  if (xt.dtype != DType::F32 || xt.rank() == 0) {
    diags.error(xloc, "'layer_norm' normalizes over the last axis of an f32 "
                      "tensor, but its input has type " +
                          xt.str());
    if (xt.rank() == 0)
      diags.help(xloc, "a scalar has no axis to normalize over");
    return std::nullopt;
  }
  if (xt.dims.back() == kBatch) {
    diags.error(xloc, "'layer_norm' normalizes over the last axis, which is "
                      "the batch axis of its input " +
                          xt.str());
    diags.note(xloc, "each sample would be normalized with the others: "
                     "layer_norm needs the features last, as in f32[N,k]");
    return std::nullopt;
  }
  return xt.dims.back();
}

NodeId ExprLowerer::lowerLayerNorm(const std::string &name, const Expr &call) {
  bool ok = checkArgs(call, 1, {"eps"});
  std::optional<double> eps = layerNormEps(call);
  if (!ok || !eps)
    return kPoison;
  NodeId x = lowerExpr(*call.args[0]);
  if (x == kPoison)
    return kPoison;
  std::optional<int64_t> width = layerNormWidth(x, spanOf(*call.args[0]));
  if (!width)
    return kPoison;

  Node w = makeNode(OpKind::Param, {}, call.loc);
  w.name = name + ".weight";
  w.type = TensorType::of({*width});
  w.init.kind = InitKind::Constant;
  w.init.a = 1;
  NodeId wid = g.add(std::move(w));

  Node b = makeNode(OpKind::Param, {}, call.loc);
  b.name = name + ".bias";
  b.type = TensorType::of({*width});
  b.init.kind = InitKind::Zeros;
  NodeId bid = g.add(std::move(b));

  Node norm = makeNode(OpKind::Normalize, {x}, call.loc);
  norm.param = *eps;
  norm.name = name + ".normalize";
  norm.type = typeOf(norm);
  NodeId nid = g.add(std::move(norm));
  NodeId scaled = add(OpKind::Mul, {nid, wid}, call.loc);
  g[scaled].name = name + ".mul";
  NodeId y = add(OpKind::Add, {scaled, bid}, call.loc);
  g[y].name = name;
  return y;
}

} // namespace nn
