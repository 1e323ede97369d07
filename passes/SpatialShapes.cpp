//===- SpatialShapes.cpp - Shape rules of the spatial ops -----------------===//
///
/// \file
/// Algorithm: each rule checks the operands' ranks, dtypes and channel
/// counts against the op's definition in ir/Ops.def and computes the output
/// size of each spatial axis with Window::outSize; the first mismatch is
/// the error.
///
//===----------------------------------------------------------------------===//

#include "passes/SpatialShapes.h"

#include "ir/Support.h"

namespace nn {

namespace {

std::string pairStr(const int64_t (&v)[2]) {
  return std::to_string(v[0]) + " x " + std::to_string(v[1]);
}

/// `t` is an f32 image [N,C,H,W].
bool isImage(const TensorType &t) {
  return t.known && t.dtype == DType::F32 && t.rank() == 4;
}

/// `t` is f32 with a channel axis: [N,C,...].
bool hasChannels(const TensorType &t) {
  return t.known && t.dtype == DType::F32 && t.rank() >= 2;
}

TensorType failWith(std::string &err, std::string msg) {
  err = std::move(msg);
  return TensorType{};
}

} // namespace

TensorType windowOutType(const TensorType &x, const Window &win,
                         int64_t channels, const char *what,
                         std::string &err) {
  if (!isImage(x))
    return failWith(err, std::string("'") + what +
                             "' needs an f32 image [N,C,H,W], got " + x.str());
  std::vector<int64_t> dims = {x.dims[0], channels, 0, 0};
  for (int a = 0; a < 2; ++a) {
    int64_t in = x.dims[2 + a];
    if (in == kBatch)
      return failWith(err, std::string("'") + what +
                               "' needs the batch first, got " + x.str());
    if (win.kernel[a] < 1 || win.stride[a] < 1 || win.dilation[a] < 1 ||
        win.padding[a] < 0)
      return failWith(err, std::string("'") + what +
                               "' has a kernel, stride or dilation below 1 "
                               "or a negative padding");
    int64_t span = win.dilation[a] * (win.kernel[a] - 1) + 1;
    if (span > in + 2 * win.padding[a])
      return failWith(
          err, std::string("'") + what + "' kernel " + pairStr(win.kernel) +
                   (win.dilation[0] != 1 || win.dilation[1] != 1
                        ? " (dilation " + pairStr(win.dilation) + ")"
                        : std::string()) +
                   " is larger than its padded input " +
                   std::to_string(x.dims[2] + 2 * win.padding[0]) + " x " +
                   std::to_string(x.dims[3] + 2 * win.padding[1]));
    dims[2 + a] = win.outSize(a, in);
  }
  return TensorType::of(dims);
}

namespace {

/// The operands of one spatial node and the checks its rules share; each
/// check sets `err` and returns false on a mismatch.
struct Rule {
  const Node &n;
  const std::vector<TensorType> &ts;
  std::string &err;

  const char *what() const { return mnemonic(n.op); }
  bool need(size_t i, bool ok, const std::string &want) {
    if (!ok)
      err = std::string("'") + what() + "' needs " + want + ", got " +
            ts[i].str();
    return ok;
  }
  bool count(size_t lo, size_t hi) {
    if (ts.size() < lo || ts.size() > hi)
      err = std::string("'") + what() + "' takes " + std::to_string(lo) +
            (lo == hi ? "" : " to " + std::to_string(hi)) + " operands";
    return err.empty();
  }
  /// The optional activation operand at `i` has operand `like`'s type.
  bool sameAs(size_t i, size_t like) {
    return i >= ts.size() || need(i, ts[i] == ts[like], ts[like].str());
  }
  /// Operand `i`, when present, is a vector of `channels` values.
  bool perChannel(size_t i, int64_t channels) {
    return i >= ts.size() ||
           need(i,
                ts[i].known && ts[i].dtype == DType::F32 &&
                    ts[i].dims == std::vector<int64_t>{channels},
                "a vector of its " + std::to_string(channels) + " channels");
  }
  TensorType fail(std::string msg) { return failWith(err, std::move(msg)); }
  /// `x`'s output under the node's window, which must be dy (`ts[dy]`).
  TensorType backTo(const TensorType &x, int64_t channels, size_t dy) {
    TensorType y = windowOutType(x, n.win, channels, what(), err);
    if (!err.empty())
      return {};
    if (y != ts[dy])
      return fail(std::string("'") + what() + "' dy " + ts[dy].str() +
                  " is not the output " + y.str() + " of " + x.str());
    return x;
  }
};

TensorType conv2dType(Rule &r) {
  const std::vector<TensorType> &ts = r.ts;
  if (!r.count(2, 5) || !r.need(0, isImage(ts[0]), "an f32 image [N,C,H,W]") ||
      !r.need(1, ts[1].known && ts[1].dtype == DType::F32 && ts[1].rank() == 4,
              "an f32 kernel [O,C/groups,kh,kw]"))
    return {};
  const auto &x = ts[0].dims, &w = ts[1].dims;
  const Window &win = r.n.win;
  if (win.groups < 1 || x[1] % win.groups != 0 || w[0] % win.groups != 0)
    return r.fail("'conv2d' groups " + std::to_string(win.groups) +
                  " do not divide its " + std::to_string(x[1]) +
                  " input and " + std::to_string(w[0]) + " output channels");
  if (w[1] * win.groups != x[1])
    return r.fail("'conv2d' kernel " + ts[1].str() + " expects " +
                  std::to_string(w[1] * win.groups) +
                  " input channels, but its input " + ts[0].str() + " has " +
                  std::to_string(x[1]));
  if (w[2] != win.kernel[0] || w[3] != win.kernel[1])
    return r.fail("'conv2d' kernel " + ts[1].str() +
                  " does not match its window " + pairStr(win.kernel));
  // The bias, scale and shift (ir/ConvAffine.h): each a [O] vector.
  for (size_t i = 2; i < ts.size(); ++i)
    if (!r.perChannel(i, w[0]))
      return {};
  return windowOutType(ts[0], win, w[0], r.what(), r.err);
}

TensorType conv2dGradInputType(Rule &r) {
  const std::vector<TensorType> &ts = r.ts;
  const Node &n = r.n;
  if (!r.count(2, 3) || !r.need(0, isImage(ts[0]), "dy, an f32 image") ||
      !r.sameAs(2, 0))
    return {};
  TensorType x = TensorType::of(n.shape);
  if (n.shape.size() != 4 || ts[1].rank() != 4 ||
      ts[1].dims[0] != ts[0].dims[1] ||
      ts[1].dims[1] * n.win.groups != n.shape[1])
    return r.fail("'conv2d_grad_input' needs dy [N,O,..], w "
                  "[O,C/groups,kh,kw] and shape [N,C,H,W], got " +
                  ts[0].str() + ", " + ts[1].str() + " and " + x.str());
  return r.backTo(x, ts[1].dims[0], 0);
}

TensorType conv2dGradWeightType(Rule &r) {
  const std::vector<TensorType> &ts = r.ts;
  const Window &win = r.n.win;
  if (!r.count(2, 5) || !r.need(0, isImage(ts[0]), "an f32 image [N,C,H,W]") ||
      !r.need(1, isImage(ts[1]), "dy, an f32 image") || !r.sameAs(2, 1))
    return {};
  int64_t o = ts[1].dims[1], g = win.groups;
  if (g < 1 || ts[0].dims[1] % g != 0 || o % g != 0)
    return r.fail("'conv2d_grad_weight' groups do not divide its channels");
  if (r.backTo(ts[0], o, 1) != ts[0])
    return {};
  return TensorType::of({o, ts[0].dims[1] / g, win.kernel[0], win.kernel[1]});
}

/// The channel ops: [N,C,...] in, [C] or the input's type out.
TensorType channelType(Rule &r) {
  const std::vector<TensorType> &ts = r.ts;
  const char *want = "f32 [N,C,...]";
  if (!r.need(0, hasChannels(ts[0]), want))
    return {};
  int64_t c = ts[0].dims[1];
  switch (member<SpatialOp>(r.n.op)) {
  case SpatialOp::ChannelSum:
    return r.count(1, 2) && r.sameAs(1, 0) ? TensorType::of({c})
                                           : TensorType{};
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    return TensorType::of({c});
  case SpatialOp::ChannelAffine:
    return r.count(2, 3) && r.perChannel(1, c) && r.perChannel(2, c)
               ? ts[0]
               : TensorType{};
  case SpatialOp::BatchNormalize:
    return r.perChannel(1, c) && r.perChannel(2, c) ? ts[0] : TensorType{};
  case SpatialOp::BatchNormalizeGrad:
    return r.sameAs(1, 0) ? ts[0] : TensorType{};
  case SpatialOp::Conv2d:
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::MaxPool2d:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2d:
  case SpatialOp::AvgPool2dGrad:
    break;
  }
  NN_UNREACHABLE("not a channel op");
}

TensorType poolType(Rule &r) {
  const Window &win = r.n.win;
  if (win.groups != 1 || win.padding[0] * 2 > win.kernel[0] ||
      win.padding[1] * 2 > win.kernel[1])
    return r.fail(std::string("'") + r.what() +
                  "' padding must be at most half its kernel, and it has "
                  "no groups");
  const TensorType &x = r.ts[0];
  return windowOutType(x, win, x.rank() == 4 ? x.dims[1] : 0, r.what(),
                       r.err);
}

TensorType poolGradType(Rule &r) {
  TensorType x = r.n.op == OpKind::MaxPool2dGrad ? r.ts[1]
                                                 : TensorType::of(r.n.shape);
  if (!r.need(0, isImage(r.ts[0]), "dy, an f32 image"))
    return {};
  return r.backTo(x, x.rank() == 4 ? x.dims[1] : 0, 0);
}

} // namespace

TensorType spatialOpType(const Node &n, const std::vector<TensorType> &ts,
                         std::string &err) {
  Rule r{n, ts, err};
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d:
    return conv2dType(r);
  case SpatialOp::Conv2dGradInput:
    return conv2dGradInputType(r);
  case SpatialOp::Conv2dGradWeight:
    return conv2dGradWeightType(r);
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
  case SpatialOp::ChannelAffine:
  case SpatialOp::BatchNormalize:
  case SpatialOp::BatchNormalizeGrad:
    return channelType(r);
  case SpatialOp::MaxPool2d:
  case SpatialOp::AvgPool2d:
    return poolType(r);
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad:
    return poolGradType(r);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

} // namespace nn
