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

TensorType spatialOpType(const Node &n, const std::vector<TensorType> &ts,
                         std::string &err) {
  const char *what = mnemonic(n.op);
  auto need = [&](size_t i, bool ok, const std::string &want) {
    if (!ok)
      err = std::string("'") + what + "' needs " + want + ", got " +
            ts[i].str();
    return ok;
  };
  auto count = [&](size_t lo, size_t hi) {
    if (ts.size() < lo || ts.size() > hi)
      err = std::string("'") + what + "' takes " + std::to_string(lo) +
            (lo == hi ? "" : " to " + std::to_string(hi)) + " operands";
    return err.empty();
  };
  // An optional activation operand `a` at `i`: the type of operand `like`.
  auto sameAs = [&](size_t i, size_t like) {
    return i >= ts.size() || need(i, ts[i] == ts[like], ts[like].str());
  };
  // Operand i is a [C] vector for C = channels.
  auto perChannel = [&](size_t i, int64_t channels) {
    return i >= ts.size() ||
           need(i,
                ts[i].known && ts[i].dtype == DType::F32 &&
                    ts[i].dims == std::vector<int64_t>{channels},
                "a vector of its " + std::to_string(channels) + " channels");
  };
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d: {
    if (!count(2, 3) || !need(0, isImage(ts[0]), "an f32 image [N,C,H,W]") ||
        !need(1, ts[1].known && ts[1].dtype == DType::F32 && ts[1].rank() == 4,
              "an f32 kernel [O,C/groups,kh,kw]"))
      return {};
    const auto &x = ts[0].dims, &w = ts[1].dims;
    int64_t g = n.win.groups;
    if (g < 1 || x[1] % g != 0 || w[0] % g != 0)
      return failWith(err, "'conv2d' groups " + std::to_string(g) +
                               " do not divide its " + std::to_string(x[1]) +
                               " input and " + std::to_string(w[0]) +
                               " output channels");
    if (w[1] * g != x[1])
      return failWith(err, "'conv2d' kernel " + ts[1].str() + " expects " +
                               std::to_string(w[1] * g) +
                               " input channels, but its input " +
                               ts[0].str() + " has " + std::to_string(x[1]));
    if (w[2] != n.win.kernel[0] || w[3] != n.win.kernel[1])
      return failWith(err, "'conv2d' kernel " + ts[1].str() +
                               " does not match its window " +
                               pairStr(n.win.kernel));
    if (!perChannel(2, w[0]))
      return {};
    return windowOutType(ts[0], n.win, w[0], what, err);
  }
  case SpatialOp::Conv2dGradInput: {
    if (!count(2, 3) || !need(0, isImage(ts[0]), "dy, an f32 image") ||
        !sameAs(2, 0))
      return {};
    TensorType x = TensorType::of(n.shape);
    if (n.shape.size() != 4 || ts[1].rank() != 4 ||
        ts[1].dims[0] != ts[0].dims[1] ||
        ts[1].dims[1] * n.win.groups != n.shape[1])
      return failWith(err, "'conv2d_grad_input' needs dy [N,O,..], w "
                           "[O,C/groups,kh,kw] and shape [N,C,H,W], got " +
                               ts[0].str() + ", " + ts[1].str() + " and " +
                               x.str());
    TensorType y = windowOutType(x, n.win, ts[1].dims[0], what, err);
    if (!err.empty())
      return {};
    if (y != ts[0])
      return failWith(err, "'conv2d_grad_input' dy " + ts[0].str() +
                               " is not the output " + y.str() + " of " +
                               x.str());
    return x;
  }
  case SpatialOp::Conv2dGradWeight: {
    if (!count(2, 3) || !need(0, isImage(ts[0]), "an f32 image [N,C,H,W]") ||
        !need(1, isImage(ts[1]), "dy, an f32 image") || !sameAs(2, 1))
      return {};
    int64_t o = ts[1].dims[1], g = n.win.groups;
    if (g < 1 || ts[0].dims[1] % g != 0 || o % g != 0)
      return failWith(err, "'conv2d_grad_weight' groups do not divide its "
                           "channels");
    TensorType y = windowOutType(ts[0], n.win, o, what, err);
    if (!err.empty())
      return {};
    if (y != ts[1])
      return failWith(err, "'conv2d_grad_weight' dy " + ts[1].str() +
                               " is not the output " + y.str() + " of " +
                               ts[0].str());
    return TensorType::of(
        {o, ts[0].dims[1] / g, n.win.kernel[0], n.win.kernel[1]});
  }
  case SpatialOp::ChannelSum:
    if (!count(1, 2) || !need(0, hasChannels(ts[0]), "f32 [N,C,...]") ||
        !sameAs(1, 0))
      return {};
    return TensorType::of({ts[0].dims[1]});
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    if (!need(0, hasChannels(ts[0]), "f32 [N,C,...]"))
      return {};
    return TensorType::of({ts[0].dims[1]});
  case SpatialOp::ChannelAffine:
    if (!count(2, 3) || !need(0, hasChannels(ts[0]), "f32 [N,C,...]") ||
        !perChannel(1, ts[0].dims[1]) || !perChannel(2, ts[0].dims[1]))
      return {};
    return ts[0];
  case SpatialOp::BatchNormalize:
    if (!need(0, hasChannels(ts[0]), "f32 [N,C,...]") ||
        !perChannel(1, ts[0].dims[1]) || !perChannel(2, ts[0].dims[1]))
      return {};
    return ts[0];
  case SpatialOp::BatchNormalizeGrad:
    if (!need(0, hasChannels(ts[0]), "f32 [N,C,...]") || !sameAs(1, 0))
      return {};
    return ts[0];
  case SpatialOp::MaxPool2d:
  case SpatialOp::AvgPool2d:
    if (n.win.groups != 1 || n.win.padding[0] * 2 > n.win.kernel[0] ||
        n.win.padding[1] * 2 > n.win.kernel[1])
      return failWith(err, std::string("'") + what +
                               "' padding must be at most half its kernel, "
                               "and it has no groups");
    return windowOutType(ts[0], n.win, ts[0].rank() == 4 ? ts[0].dims[1] : 0,
                         what, err);
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad: {
    bool isMax = n.op == OpKind::MaxPool2dGrad;
    TensorType x = isMax ? ts[1] : TensorType::of(n.shape);
    if (!need(0, isImage(ts[0]), "dy, an f32 image"))
      return {};
    TensorType y = windowOutType(x, n.win, x.rank() == 4 ? x.dims[1] : 0,
                                 what, err);
    if (!err.empty())
      return {};
    if (y != ts[0])
      return failWith(err, std::string("'") + what + "' dy " + ts[0].str() +
                               " is not the output " + y.str() + " of " +
                               x.str());
    return x;
  }
  }
  NN_UNREACHABLE("bad SpatialOp");
}

} // namespace nn
