//===- InterpSpatial.cpp - Naive kernels: convolution, pooling, batch norm ===//
///
/// \file
/// The spatial ops over double, as ir/Ops.def states them: plain nested
/// loops over [N,C,H,W] (the channel ops over [N,C,...]), no shortcuts.
/// The oracle the CPU and CUDA kernels are compared with.
///
/// Algorithm: conv2d and its weight gradient gather each output's window
/// in the definition's order (channel, then kernel row, then column); the
/// data gradient and the pooling gradients scatter each dy element back
/// over the window it came from. Batch statistics take two passes (the
/// mean, then the variance about it).
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/ConvAffine.h"
#include "ir/Support.h"

#include <cmath>
#include <functional>
#include <limits>

namespace nn::interp {

namespace {

/// An [N,C,H,W] value's dimensions, and its flat index.
struct Image {
  int64_t n, c, h, w;
  explicit Image(const Shape &s) : n(s[0]), c(s[1]), h(s[2]), w(s[3]) {}
  int64_t at(int64_t in, int64_t ic, int64_t ih, int64_t iw) const {
    return ((in * c + ic) * h + ih) * w + iw;
  }
};

/// Calls f(p, q, ih, iw) for each in-bounds input position of the window
/// of output (i, j): kernel row p, column q.
template <class F>
void forWindow(const Window &win, const Image &x, int64_t i, int64_t j, F f) {
  for (int64_t p = 0; p < win.kernel[0]; ++p) {
    int64_t ih = i * win.stride[0] - win.padding[0] + p * win.dilation[0];
    if (ih < 0 || ih >= x.h)
      continue;
    for (int64_t q = 0; q < win.kernel[1]; ++q) {
      int64_t iw = j * win.stride[1] - win.padding[1] + q * win.dilation[1];
      if (iw >= 0 && iw < x.w)
        f(p, q, ih, iw);
    }
  }
}

/// dy, or dy * act'(a) when the op has its activation operand at `i`.
Value gradOperand(const Node &n, const Args &in, size_t i) {
  return in.size() > i ? maskedGrad(*in[0], *in[i], n.act, n.param) : *in[0];
}

Value zeros(const Shape &s) {
  return {s, std::vector<double>(static_cast<size_t>(numelOf(s)), 0.0)};
}

/// [N,C,...] as (n, c, inner): the elements of sample b, channel c are
/// (b * C + c) * inner + k.
struct Channels {
  int64_t n, c, inner;
  explicit Channels(const Shape &s) : n(s[0]), c(s[1]), inner(1) {
    for (size_t d = 2; d < s.size(); ++d)
      inner *= s[d];
  }
  int64_t count() const { return n * inner; }
  template <class F> void forEach(int64_t ch, F f) const {
    for (int64_t b = 0; b < n; ++b)
      for (int64_t k = 0; k < inner; ++k)
        f((b * c + ch) * inner + k);
  }
};

/// x * s[c] + t[c] over every axis but 1 (t optional): channel_affine.
Value channelAffine(Value r, const Value &s, const Value *t) {
  Channels ch(r.shape);
  for (int64_t c = 0; c < ch.c; ++c)
    ch.forEach(c, [&](int64_t i) {
      r.data[i] = r.data[i] * s.data[c] + (t ? t->data[c] : 0.0);
    });
  return r;
}

Value conv2d(const Node &n, const Args &in) {
  const ConvOperands ops = convOperands(n);
  const Value &xv = *in[0], &wv = *in[1];
  Image x(xv.shape), y(Shape{xv.shape[0], wv.shape[0],
                             n.win.outSize(0, xv.shape[2]),
                             n.win.outSize(1, xv.shape[3])});
  int64_t cg = wv.shape[1], og = y.c / n.win.groups;
  int64_t kh = n.win.kernel[0], kw = n.win.kernel[1];
  Value out = zeros({y.n, y.c, y.h, y.w});
  for (int64_t b = 0; b < y.n; ++b)
    for (int64_t o = 0; o < y.c; ++o)
      for (int64_t i = 0; i < y.h; ++i)
        for (int64_t j = 0; j < y.w; ++j) {
          double acc = 0;
          int64_t c0 = o / og * cg;
          for (int64_t c = 0; c < cg; ++c)
            forWindow(n.win, x, i, j,
                      [&](int64_t p, int64_t q, int64_t ih, int64_t iw) {
                        acc += wv.data[((o * cg + c) * kh + p) * kw + q] *
                               xv.data[x.at(b, c0 + c, ih, iw)];
                      });
          if (ops.bias >= 0)
            acc = in[ops.bias]->data[o] + acc;
          out.data[y.at(b, o, i, j)] = acc;
        }
  // The folded channel affine (ir/ConvAffine.h), before or after act.
  bool after = affineAfterAct(n);
  if (ops.hasAffine() && !after)
    out = channelAffine(out, *in[ops.scale], in[ops.shift]);
  if (n.act != Activation::None)
    out = elementwise(activationOp(n.act), {&out}, n.param);
  if (ops.hasAffine() && after)
    out = channelAffine(out, *in[ops.scale], in[ops.shift]);
  return out;
}

Value conv2dGradInput(const Node &n, const Args &in) {
  Value dz = gradOperand(n, in, 2);
  const Value &wv = *in[1];
  Image y(dz.shape), x(n.shape[0] == kBatch
                           ? Shape{y.n, n.shape[1], n.shape[2], n.shape[3]}
                           : n.shape);
  int64_t cg = wv.shape[1], og = y.c / n.win.groups;
  int64_t kh = n.win.kernel[0], kw = n.win.kernel[1];
  Value dx = zeros({x.n, x.c, x.h, x.w});
  for (int64_t b = 0; b < y.n; ++b)
    for (int64_t o = 0; o < y.c; ++o)
      for (int64_t i = 0; i < y.h; ++i)
        for (int64_t j = 0; j < y.w; ++j) {
          double d = dz.data[y.at(b, o, i, j)];
          int64_t c0 = o / og * cg;
          for (int64_t c = 0; c < cg; ++c)
            forWindow(n.win, x, i, j,
                      [&](int64_t p, int64_t q, int64_t ih, int64_t iw) {
                        dx.data[x.at(b, c0 + c, ih, iw)] +=
                            wv.data[((o * cg + c) * kh + p) * kw + q] * d;
                      });
        }
  return dx;
}

Value conv2dGradWeight(const Node &n, const Args &in) {
  const Value &xv = *in[0];
  Value dz = in.size() > 2 ? maskedGrad(*in[1], *in[2], n.act, n.param)
                           : *in[1];
  Image x(xv.shape), y(dz.shape);
  int64_t g = n.win.groups, cg = x.c / g, og = y.c / g;
  int64_t kh = n.win.kernel[0], kw = n.win.kernel[1];
  Value dw = zeros({y.c, cg, kh, kw});
  for (int64_t o = 0; o < y.c; ++o)
    for (int64_t b = 0; b < y.n; ++b)
      for (int64_t i = 0; i < y.h; ++i)
        for (int64_t j = 0; j < y.w; ++j) {
          double d = dz.data[y.at(b, o, i, j)];
          int64_t c0 = o / og * cg;
          for (int64_t c = 0; c < cg; ++c)
            forWindow(n.win, x, i, j,
                      [&](int64_t p, int64_t q, int64_t ih, int64_t iw) {
                        dw.data[((o * cg + c) * kh + p) * kw + q] +=
                            xv.data[x.at(b, c0 + c, ih, iw)] * d;
                      });
        }
  return dw;
}

/// The mean and the sum of squared deviations of channel ch of v.
std::pair<double, double> moments(const Value &v, const Channels &s,
                                  int64_t ch) {
  double sum = 0;
  s.forEach(ch, [&](int64_t i) { sum += v.data[i]; });
  double mean = sum / static_cast<double>(s.count());
  double sq = 0;
  s.forEach(ch, [&](int64_t i) {
    sq += (v.data[i] - mean) * (v.data[i] - mean);
  });
  return {mean, sq};
}

Value perChannel(const Value &v, std::function<double(int64_t)> f) {
  Channels s(v.shape);
  Value r = zeros({s.c});
  for (int64_t ch = 0; ch < s.c; ++ch)
    r.data[ch] = f(ch);
  return r;
}

Value batchNormalize(const Value &xv, double eps) {
  Channels s(xv.shape);
  Value r = xv;
  for (int64_t ch = 0; ch < s.c; ++ch) {
    auto [mean, sq] = moments(xv, s, ch);
    double sd = std::sqrt(sq / static_cast<double>(s.count()) + eps);
    s.forEach(ch, [&](int64_t i) { r.data[i] = (xv.data[i] - mean) / sd; });
  }
  return r;
}

Value batchNormalizeGrad(const Value &dy, const Value &xv, double eps) {
  Channels s(xv.shape);
  Value xh = batchNormalize(xv, eps), r = dy;
  double cnt = static_cast<double>(s.count());
  for (int64_t ch = 0; ch < s.c; ++ch) {
    auto [mean, sq] = moments(xv, s, ch);
    double sd = std::sqrt(sq / cnt + eps);
    double sdy = 0, sdyx = 0;
    s.forEach(ch, [&](int64_t i) {
      sdy += dy.data[i];
      sdyx += dy.data[i] * xh.data[i];
    });
    s.forEach(ch, [&](int64_t i) {
      r.data[i] = (dy.data[i] - sdy / cnt - xh.data[i] * (sdyx / cnt)) / sd;
    });
  }
  return r;
}

/// The flat input index of the first maximum of output (b, c, i, j)'s
/// window (NaN wins, as PyTorch), or -1 when the window is all padding.
int64_t argmaxOf(const Value &xv, const Image &x, const Window &win,
                 int64_t b, int64_t c, int64_t i, int64_t j) {
  int64_t best = -1;
  double v = -std::numeric_limits<double>::infinity();
  forWindow(win, x, i, j, [&](int64_t, int64_t, int64_t ih, int64_t iw) {
    double u = xv.data[x.at(b, c, ih, iw)];
    if (best < 0 || u > v || std::isnan(u)) {
      best = x.at(b, c, ih, iw);
      v = u;
    }
  });
  return best;
}

/// maxpool2d or avgpool2d of x.
Value pool(const Node &n, const Value &xv, bool isMax) {
  Image x(xv.shape), y(Shape{x.n, x.c, n.win.outSize(0, x.h),
                             n.win.outSize(1, x.w)});
  Value out = zeros({y.n, y.c, y.h, y.w});
  double size = static_cast<double>(n.win.kernel[0] * n.win.kernel[1]);
  for (int64_t b = 0; b < y.n; ++b)
    for (int64_t c = 0; c < y.c; ++c)
      for (int64_t i = 0; i < y.h; ++i)
        for (int64_t j = 0; j < y.w; ++j) {
          double r = 0;
          if (isMax) {
            int64_t at = argmaxOf(xv, x, n.win, b, c, i, j);
            r = at < 0 ? -std::numeric_limits<double>::infinity()
                       : xv.data[at];
          } else {
            forWindow(n.win, x, i, j,
                      [&](int64_t, int64_t, int64_t ih, int64_t iw) {
                        r += xv.data[x.at(b, c, ih, iw)];
                      });
            r /= size;
          }
          out.data[y.at(b, c, i, j)] = r;
        }
  return out;
}

/// The gradient of a pooling: dy routed to each window's maximum of x
/// (`xv` given), else spread evenly over the window.
Value poolGrad(const Node &n, const Value &dy, const Value *xv) {
  Image y(dy.shape);
  Shape xs = xv ? xv->shape : n.shape;
  if (!xv && xs[0] == kBatch)
    xs[0] = y.n;
  Image x(xs);
  Value dx = zeros(xs);
  double size = static_cast<double>(n.win.kernel[0] * n.win.kernel[1]);
  for (int64_t b = 0; b < y.n; ++b)
    for (int64_t c = 0; c < y.c; ++c)
      for (int64_t i = 0; i < y.h; ++i)
        for (int64_t j = 0; j < y.w; ++j) {
          double d = dy.data[y.at(b, c, i, j)];
          if (xv) {
            int64_t at = argmaxOf(*xv, x, n.win, b, c, i, j);
            if (at >= 0)
              dx.data[at] += d;
          } else {
            forWindow(n.win, x, i, j,
                      [&](int64_t, int64_t, int64_t ih, int64_t iw) {
                        dx.data[x.at(b, c, ih, iw)] += d / size;
                      });
          }
        }
  return dx;
}

} // namespace

Value spatial(SpatialOp op, const Node &n, const Args &in) {
  switch (op) {
  case SpatialOp::Conv2d:
    return conv2d(n, in);
  case SpatialOp::Conv2dGradInput:
    return conv2dGradInput(n, in);
  case SpatialOp::Conv2dGradWeight:
    return conv2dGradWeight(n, in);
  case SpatialOp::ChannelSum: {
    Value dz = gradOperand(n, in, 1);
    Channels s(dz.shape);
    return perChannel(dz, [&](int64_t ch) {
      double sum = 0;
      s.forEach(ch, [&](int64_t i) { sum += dz.data[i]; });
      return sum;
    });
  }
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar: {
    const Value &x = *in[0];
    Channels s(x.shape);
    bool var = op == SpatialOp::ChannelVar;
    return perChannel(x, [&](int64_t ch) {
      auto [mean, sq] = moments(x, s, ch);
      return var ? sq / static_cast<double>(s.count() - 1) : mean;
    });
  }
  case SpatialOp::ChannelAffine:
    return channelAffine(*in[0], *in[1], in.size() > 2 ? in[2] : nullptr);
  case SpatialOp::BatchNormalize:
    return batchNormalize(*in[0], n.param);
  case SpatialOp::BatchNormalizeGrad:
    return batchNormalizeGrad(*in[0], *in[1], n.param);
  case SpatialOp::MaxPool2d:
    return pool(n, *in[0], /*isMax=*/true);
  case SpatialOp::AvgPool2d:
    return pool(n, *in[0], /*isMax=*/false);
  case SpatialOp::MaxPool2dGrad:
    return poolGrad(n, *in[0], in[1]);
  case SpatialOp::AvgPool2dGrad:
    return poolGrad(n, *in[0], nullptr);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

} // namespace nn::interp
