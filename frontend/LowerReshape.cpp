//===- LowerReshape.cpp - flatten and reshape to graph nodes --------------===//
///
/// \file
/// Algorithm: both are one reshape node (the same elements, row-major, in
/// the shape Node::shape, the batch axis N first). `flatten(x)` of
/// x [N, d1, ..., dk] has the shape [N, d1 * ... * dk] (torch.flatten(x,
/// 1): an image's C, H, W order); `reshape(x, [C, H, W])` has [N, C, H, W],
/// for inputs given flat. A list that does not hold the sample's element
/// count is a located error under the list.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "ir/Support.h"
#include "ir/TensorLimits.h"

namespace nn {

namespace {

/// x [N, ...]: a batch whose other axes are known sizes.
bool isBatch(const TensorType &t) {
  if (!t.known || t.rank() < 1 || t.dims[0] != kBatch)
    return false;
  for (size_t i = 1; i < t.dims.size(); ++i)
    if (t.dims[i] == kBatch)
      return false;
  return true;
}

} // namespace

NodeId ExprLowerer::lowerFlatten(const Expr &e) {
  if (!checkArgs(e, 1, {}))
    return kPoison;
  NodeId x = lowerExpr(*e.args[0]);
  if (x == kPoison)
    return kPoison;
  SrcLoc xloc = spanOf(*e.args[0]);
  const TensorType &xt = g[x].type;
  if (!xt.known) {
    diags.error(xloc, "cannot tell the shape of the input of 'flatten'");
    explainUnknown(x, xloc);
    return kPoison;
  }
  if (!isBatch(xt) || xt.rank() < 2) {
    diags.error(xloc, "'flatten' keeps the batch axis and flattens the "
                      "others, so it needs f32[N,...] with at least one "
                      "axis after N, but its input has type " +
                          xt.str());
    return kPoison;
  }
  Node r = makeNode(OpKind::Reshape, {x}, e.loc);
  r.shape = {kBatch, xt.numel(1)};
  r.type = typeOf(r);
  NN_ASSERT(r.type.known, "flatten's reshape is ill-typed");
  return g.add(std::move(r));
}

NodeId ExprLowerer::lowerReshape(const Expr &e) {
  bool ok = checkArgs(e, 2, {});
  if (!ok)
    return kPoison;
  NodeId x = lowerExpr(*e.args[0]);
  const Expr &list = *e.args[1];
  std::vector<int64_t> shape = {kBatch};
  if (list.kind != Expr::Kind::List || list.args.empty()) {
    diags.error(spanOf(list), "'reshape' takes the shape of one sample as a "
                              "list, as in 'reshape(x, [1, 28, 28])'");
    ok = false;
  } else {
    for (const ExprPtr &d : list.args) {
      std::optional<int64_t> v =
          positiveInt(*d, "dimension must be a positive integer");
      ok &= v.has_value();
      if (v)
        shape.push_back(*v);
    }
    if (std::string big = ok ? tensorSizeError(shape) : ""; !big.empty()) {
      diags.error(spanOf(list), big);
      ok = false;
    }
  }
  if (!ok || x == kPoison)
    return kPoison;
  SrcLoc xloc = spanOf(*e.args[0]);
  const TensorType &xt = g[x].type;
  if (!xt.known) {
    diags.error(xloc, "cannot tell the shape of the input of 'reshape'");
    explainUnknown(x, xloc);
    return kPoison;
  }
  if (!isBatch(xt)) {
    diags.error(xloc, "'reshape' keeps the batch axis and reshapes each "
                      "sample, so it needs f32[N,...], but its input has "
                      "type " +
                          xt.str());
    return kPoison;
  }
  Node r = makeNode(OpKind::Reshape, {x}, e.loc);
  r.shape = shape;
  TensorType want = TensorType::of(shape, xt.dtype);
  if (want.numel(1) != xt.numel(1)) {
    diags.error(spanOf(list), "cannot reshape " + xt.str() + " to " +
                                  want.str() + ": a sample holds " +
                                  std::to_string(xt.numel(1)) +
                                  " values, not " +
                                  std::to_string(want.numel(1)));
    return kPoison;
  }
  r.type = typeOf(r);
  NN_ASSERT(r.type.known, "reshape is ill-typed");
  return g.add(std::move(r));
}

} // namespace nn
