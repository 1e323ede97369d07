//===- LowerConv.cpp - conv2d: the layer to graph nodes -------------------===//
///
/// \file
/// Algorithm: `c1 = conv2d(x, 32, kernel = 3, padding = 1, relu)` checks
/// its input is an image [N,C,H,W] and reads the window keywords (kernel,
/// required; stride, padding, dilation, each an int or [h, w]; groups;
/// bias = false) into a Window. It makes the params c1.weight
/// [O, C/groups, kh, kw] (an L2 weight) and c1.bias [O], shaped and named as
/// nn.Conv2d's state_dict and drawn as nn.Conv2d draws them:
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C/groups * kh * kw (its
/// kaiming_uniform(a = sqrt(5)), and the bias's rule). Then conv2d(x, w, b)
/// with the window, typed by passes/SpatialShapes.h, whose message is the
/// located error when the window does not fit; and the activation after it
/// as its own op (named c1, the conv c1.conv), which fusion folds into the
/// conv later. The window helpers here serve the pooling functions too.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "passes/ShapeRules.h"
#include "passes/SpatialShapes.h"

#include <cmath>

namespace nn {

std::optional<std::array<int64_t, 2>>
ExprLowerer::windowPair(const Expr &e, const std::string &what, int64_t min) {
  std::string want = min > 0 ? "a positive integer" : "an integer >= 0";
  auto bad = [&](const Expr &at) {
    diags.error(spanOf(at), what + " must be " + want + " or a list [h, w] "
                                   "of them, as in '" +
                                what + " = 3' or '" + what + " = [3, 5]'");
    return std::nullopt;
  };
  auto one = [&](const Expr &v) -> std::optional<int64_t> {
    std::optional<int64_t> i = integerValue(v);
    if (!i || *i < min || *i > (int64_t(1) << 31))
      return std::nullopt;
    return i;
  };
  if (e.kind == Expr::Kind::List) {
    if (e.args.size() != 2)
      return bad(e);
    std::optional<int64_t> h = one(*e.args[0]), w = one(*e.args[1]);
    if (!h)
      return bad(*e.args[0]);
    if (!w)
      return bad(*e.args[1]);
    return std::array<int64_t, 2>{*h, *w};
  }
  std::optional<int64_t> v = one(e);
  if (!v)
    return bad(e);
  return std::array<int64_t, 2>{*v, *v};
}

bool ExprLowerer::checkImage(NodeId x, const SrcLoc &xloc,
                             const std::string &fn) {
  const TensorType &xt = g[x].type;
  if (!xt.known) {
    diags.error(xloc, "cannot tell the shape of the input of '" + fn + "'");
    explainUnknown(x, xloc);
    return false;
  }
  if (xt.dtype == DType::F32 && xt.rank() == 4 && xt.dims[0] == kBatch &&
      xt.dims[1] != kBatch && xt.dims[2] != kBatch && xt.dims[3] != kBatch)
    return true;
  diags.error(xloc, "'" + fn +
                        "' expects a batch of images f32[N,C,H,W], but its "
                        "input has type " +
                        xt.str());
  if (xt.rank() == 2 && xt.dims[0] == kBatch)
    diags.help(xloc, "give the input its channels, height and width, as in "
                     "'input x : f32[1, 28, 28]', or reshape it, as in "
                     "'reshape(x, [1, 28, 28])'");
  return false;
}

NodeId ExprLowerer::addSpatial(Node n, const SrcLoc &loc) {
  for (NodeId in : n.inputs)
    if (in == kPoison)
      return kPoison;
  ShapeResult r = inferNodeType(g, n);
  if (!r.error.empty()) {
    diags.error(loc, r.error);
    return kPoison;
  }
  n.type = r.type;
  return g.add(std::move(n));
}

namespace {

/// `bias = true` / `bias = false`; nullopt after an error.
std::optional<bool> boolValue(DiagEngine &diags, const KwArg &k) {
  const Expr &v = *k.value;
  if (v.kind == Expr::Kind::Name && (v.text == "true" || v.text == "false"))
    return v.text == "true";
  diags.error(spanOf(v), "'" + k.name + "' takes true or false");
  return std::nullopt;
}

} // namespace

NodeId ExprLowerer::lowerConv2d(const std::string &name, const Expr &call) {
  bool ok = checkArgs(call, call.args.size(),
                      {"kernel", "stride", "padding", "dilation", "groups",
                       "bias"});
  if (call.args.size() < 2 || call.args.size() > 3) {
    diags.error(call.loc, "'conv2d' takes an input, a number of output "
                          "channels and an optional activation, as in "
                          "'conv2d(x, 32, kernel = 3, relu)'");
    return kPoison;
  }
  NodeId x = lowerExpr(*call.args[0]);
  std::optional<int64_t> out = positiveInt(
      *call.args[1], "the number of output channels must be a positive "
                     "integer");
  ok &= out.has_value();
  std::optional<Activation> act;
  double slope = 0;
  if (call.args.size() == 3) {
    act = layerActivation(diags, *call.args[2], slope,
                          "conv2d(x, 32, kernel = 3, ");
    ok &= act.has_value();
  }
  Window win;
  const KwArg *kernel = call.kwarg("kernel");
  if (!kernel) {
    diags.error(call.loc, "'conv2d' needs its kernel size, as in "
                          "'conv2d(x, 32, kernel = 3)'");
    ok = false;
  }
  struct Key {
    const char *name;
    int64_t min;
    int64_t (*field)[2];
  } keys[] = {{"kernel", 1, &win.kernel},
              {"stride", 1, &win.stride},
              {"padding", 0, &win.padding},
              {"dilation", 1, &win.dilation}};
  for (const Key &key : keys) {
    const KwArg *k = call.kwarg(key.name);
    if (!k)
      continue;
    std::optional<std::array<int64_t, 2>> v =
        windowPair(*k->value, key.name, key.min);
    ok &= v.has_value();
    if (v)
      for (int a = 0; a < 2; ++a)
        (*key.field)[a] = (*v)[a];
  }
  const KwArg *groups = call.kwarg("groups");
  if (groups) {
    std::optional<int64_t> v =
        positiveInt(*groups->value, "groups must be a positive integer");
    ok &= v.has_value();
    if (v)
      win.groups = *v;
  }
  bool bias = true;
  if (const KwArg *k = call.kwarg("bias")) {
    std::optional<bool> v = boolValue(diags, *k);
    ok &= v.has_value();
    bias = v.value_or(true);
  }
  if (!ok || x == kPoison)
    return kPoison;
  SrcLoc xloc = spanOf(*call.args[0]);
  if (!checkImage(x, xloc, "conv2d"))
    return kPoison;
  int64_t c = g[x].type.dims[1], o = *out, gr = win.groups;
  if (c % gr != 0 || o % gr != 0) {
    SrcLoc at = spanOf(*groups->value);
    diags.error(at, "'conv2d' groups " + std::to_string(gr) +
                        " do not divide its " + std::to_string(c) +
                        " input and " + std::to_string(o) +
                        " output channels");
    diags.note(xloc, "its input has type " + g[x].type.str());
    return kPoison;
  }

  // nn.Conv2d's init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weight and bias.
  int64_t fanIn = c / gr * win.kernel[0] * win.kernel[1];
  double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
  Node w = makeNode(OpKind::Param, {}, call.loc);
  w.name = name + ".weight";
  w.type = TensorType::of({o, c / gr, win.kernel[0], win.kernel[1]});
  w.init = {InitKind::Uniform, -bound, bound};
  w.isWeight = true;
  // Check the window before adding params a failed layer would leave.
  Node conv = makeNode(OpKind::Conv2d, {x, g.size()}, call.loc);
  conv.win = win;
  std::string err;
  std::vector<TensorType> ts = {g[x].type, w.type};
  spatialOpType(conv, ts, err);
  if (!err.empty()) {
    diags.error(kernel ? spanOf(*kernel->value) : call.loc, err);
    diags.note(xloc, "its input has type " + g[x].type.str());
    return kPoison;
  }
  NodeId wid = g.add(std::move(w));
  conv.inputs = {x, wid};
  if (bias) {
    Node b = makeNode(OpKind::Param, {}, call.loc);
    b.name = name + ".bias";
    b.type = TensorType::of({o});
    b.init = {InitKind::Uniform, -bound, bound};
    conv.inputs.push_back(g.add(std::move(b)));
  }
  conv.name = act ? name + ".conv" : name;
  NodeId y = addSpatial(std::move(conv), call.loc);
  if (!act || y == kPoison)
    return y;
  NodeId a = add(opOf(activationOp(*act)), {y}, call.loc);
  g[a].name = name;
  g[a].param = slope;
  return a;
}

} // namespace nn
