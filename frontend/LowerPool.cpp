//===- LowerPool.cpp - Pooling functions to graph nodes -------------------===//
///
/// \file
/// Algorithm: `maxpool2d(x, 2)` and `avgpool2d(x, [2, 3], stride = 1,
/// padding = 1)` check their input is an image [N,C,H,W], read the kernel
/// (an int or [h, w]) and the keywords stride (the kernel unless written,
/// as nn.MaxPool2d) and padding into the node's window, and type the node
/// by passes/SpatialShapes.h, whose message is the located error when the
/// window does not fit. `global_avgpool(x)` is avgpool2d with the whole
/// image as its kernel, then a reshape of [N,C,1,1] to [N,C]
/// (nn.AdaptiveAvgPool2d(1) then torch.flatten(x, 1)).
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "ir/Support.h"

namespace nn {

NodeId ExprLowerer::lowerPoolCall(OpKind op, const Expr &e) {
  const std::string fn = mnemonic(op);
  bool ok = checkArgs(e, e.args.size(), {"stride", "padding"});
  if (e.args.size() != 2) {
    diags.error(e.loc, "'" + fn +
                           "' takes an input and a kernel size, as in '" +
                           fn + "(x, 2)' or '" + fn + "(x, [2, 3])'");
    return kPoison;
  }
  NodeId x = lowerExpr(*e.args[0]);
  std::optional<std::array<int64_t, 2>> kernel =
      windowPair(*e.args[1], "kernel", 1);
  ok &= kernel.has_value();
  Window win;
  if (kernel)
    for (int a = 0; a < 2; ++a)
      win.kernel[a] = win.stride[a] = (*kernel)[a];
  for (const char *key : {"stride", "padding"}) {
    const KwArg *k = e.kwarg(key);
    if (!k)
      continue;
    bool stride = std::string(key) == "stride";
    std::optional<std::array<int64_t, 2>> v =
        windowPair(*k->value, key, stride ? 1 : 0);
    ok &= v.has_value();
    if (v)
      for (int a = 0; a < 2; ++a)
        (stride ? win.stride : win.padding)[a] = (*v)[a];
  }
  if (!ok || x == kPoison)
    return kPoison;
  SrcLoc xloc = spanOf(*e.args[0]);
  if (!checkImage(x, xloc, fn))
    return kPoison;
  Node n = makeNode(op, {x}, e.loc);
  n.win = win;
  return addSpatial(std::move(n), spanOf(*e.args[1]));
}

NodeId ExprLowerer::lowerGlobalAvgPool(const Expr &e) {
  if (!checkArgs(e, 1, {}))
    return kPoison;
  NodeId x = lowerExpr(*e.args[0]);
  if (x == kPoison || !checkImage(x, spanOf(*e.args[0]), "global_avgpool"))
    return kPoison;
  std::vector<int64_t> dims = g[x].type.dims; // a copy: g grows below
  Node pool = makeNode(OpKind::AvgPool2d, {x}, e.loc);
  for (int a = 0; a < 2; ++a)
    pool.win.kernel[a] = pool.win.stride[a] = dims[2 + a];
  NodeId p = addSpatial(std::move(pool), e.loc);
  if (p == kPoison)
    return kPoison;
  Node r = makeNode(OpKind::Reshape, {p}, e.loc);
  r.shape = {kBatch, dims[1]};
  r.type = typeOf(r);
  NN_ASSERT(r.type.known, "global_avgpool's reshape is ill-typed");
  return g.add(std::move(r));
}

} // namespace nn
