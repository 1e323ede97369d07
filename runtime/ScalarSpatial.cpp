//===- ScalarSpatial.cpp - explain --scalar: convolution and pooling ------===//
///
/// \file
/// The spatial ops (ir/Ops.def) written element by element, with names and
/// with numbers, each result the reference interpreter's value:
///
///   c1[A,1,2,3] = c1.weight[1,1,1,1] * x[A,1,2,3] + ... + c1.bias[1]
///   d.c1.weight[1,1,1,1] = x[A,1,1,1] * d.c1[A,1,1,1] + x[A,1,1,2] * ...
///   d.c1[A,1,2,2] = d.p1[A,1,1,1] (the max of its window)
///
/// Algorithm: for each output element, walk the window (or, for the
/// gradients, the outputs whose window reads the element) in the order the
/// interpreter sums (runtime/InterpSpatial.cpp: channel, kernel row, kernel
/// column for a window; sample, output row, output column for a weight
/// gradient; output channel, row, column for a data gradient), skipping
/// the padding, and write one term per product. Max pooling finds each
/// window's first maximum in row-major order, as the interpreter does, and
/// its gradient names the windows that routed their gradient to the
/// element. batch_normalize first writes each channel's mean and biased
/// variance (two passes, as the interpreter), then each element.
///
//===----------------------------------------------------------------------===//

#include "runtime/ElementwiseText.h"
#include "runtime/ScalarWriter.h"

#include "ir/ElementwiseMath.h"
#include "ir/Printer.h"
#include "ir/Support.h"

#include <cmath>

namespace nn::scalar {

namespace {

/// The most terms one written sum may have: a longer line is not read.
constexpr int64_t kMaxTerms = 64;

/// An [N,C,H,W] shape and its flat index.
struct Img {
  int64_t n, c, h, w;
  explicit Img(const std::vector<int64_t> &s)
      : n(s[0]), c(s[1]), h(s[2]), w(s[3]) {}
  int64_t at(int64_t b, int64_t ch, int64_t i, int64_t j) const {
    return ((b * c + ch) * h + i) * w + j;
  }
};

/// [N,C,...] as samples, channels and the elements of one channel of one
/// sample (1 for [N,C]).
struct Chans {
  int64_t n, c, inner = 1;
  explicit Chans(const std::vector<int64_t> &s) : n(s[0]), c(s[1]) {
    for (size_t d = 2; d < s.size(); ++d)
      inner *= s[d];
  }
  int64_t count() const { return n * inner; }
  /// The flat index of the k-th element of channel ch (sample-major).
  int64_t at(int64_t ch, int64_t k) const {
    return (k / inner * c + ch) * inner + k % inner;
  }
};

/// Calls f(p, q, ih, iw) for each in-bounds input position of the window
/// of output (i, j), kernel row p, column q (interp's forWindow).
template <class F>
void forWindow(const Window &win, const Img &x, int64_t i, int64_t j, F f) {
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

/// The kernel tap along axis `a` by which output position `i` reads input
/// position `h`, or -1 when it does not.
int64_t tapOf(const Window &win, int a, int64_t i, int64_t h) {
  int64_t off = h - i * win.stride[a] + win.padding[a];
  if (off < 0 || off % win.dilation[a] != 0)
    return -1;
  int64_t p = off / win.dilation[a];
  return p < win.kernel[a] ? p : -1;
}

/// The flat index of the first maximum of window (b, c, i, j) of x in
/// row-major order (NaN wins), -1 when the window is all padding: as the
/// interpreter routes the gradient.
int64_t argmaxOf(const Value &xv, const Img &x, const Window &win, int64_t b,
                 int64_t c, int64_t i, int64_t j) {
  int64_t best = -1;
  double v = 0;
  forWindow(win, x, i, j, [&](int64_t, int64_t, int64_t ih, int64_t iw) {
    double u = xv.data[x.at(b, c, ih, iw)];
    if (best < 0 || u > v || std::isnan(u)) {
      best = x.at(b, c, ih, iw);
      v = u;
    }
  });
  return best;
}

/// "0" for a sum of no terms (a window all in the padding).
Texts orZero(const Texts &t) { return t.sym.empty() ? Texts{"0", "0"} : t; }

/// The mean and the biased variance of channel ch of v, in two passes (as
/// the interpreter's batch_normalize).
std::pair<double, double> channelMoments(const Value &v, const Chans &s,
                                         int64_t ch) {
  double sum = 0;
  for (int64_t k = 0; k < s.count(); ++k)
    sum += v.data[s.at(ch, k)];
  double mean = sum / static_cast<double>(s.count());
  double sq = 0;
  for (int64_t k = 0; k < s.count(); ++k)
    sq += (v.data[s.at(ch, k)] - mean) * (v.data[s.at(ch, k)] - mean);
  return {mean, sq / static_cast<double>(s.count())};
}

} // namespace

void Writer::Sum::add(const Texts &term) {
  t.sym += (terms ? " + " : "") + term.sym;
  t.nums += (terms ? " + " : "") + term.nums;
  ++terms;
}

void Writer::checkTerms(NodeId id, int64_t terms) const {
  if (terms > kMaxTerms)
    throw UserError("nnc: error: explain --scalar writes sums of at most " +
                    std::to_string(kMaxTerms) + " terms; " + nodeName(id) +
                    " sums " + std::to_string(terms) +
                    " (use a smaller image or --batch)");
}

std::string Writer::channelOf(NodeId id, int64_t c) const {
  std::string s = nodeName(id) + "[:," + std::to_string(c + 1);
  for (size_t d = 2; d < vals[id].shape.size(); ++d)
    s += ",:";
  return s + "]";
}

void Writer::noteLine(NodeId id, const std::string &text, double v) {
  checkLineLimit(" (use a smaller model or --batch)");
  ScalarLine l;
  l.section = sectionOf(id);
  l.node = -1;
  l.value = v;
  l.text = text + " = " + scalarText(v);
  lines.push_back(l);
}

void Writer::spatial(NodeId id) {
  switch (member<SpatialOp>(g[id].op)) {
  case SpatialOp::Conv2d:
    return conv2d(id);
  case SpatialOp::Conv2dGradInput:
    return conv2dGradInput(id);
  case SpatialOp::Conv2dGradWeight:
    return conv2dGradWeight(id);
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    return channelReduce(id, member<SpatialOp>(g[id].op));
  case SpatialOp::ChannelAffine:
    return channelAffine(id);
  case SpatialOp::BatchNormalize:
    return batchNormalize(id, /*grad=*/false);
  case SpatialOp::BatchNormalizeGrad:
    return batchNormalize(id, /*grad=*/true);
  case SpatialOp::MaxPool2d:
    return pool(id, /*isMax=*/true);
  case SpatialOp::MaxPool2dGrad:
    return poolGrad(id, /*isMax=*/true);
  case SpatialOp::AvgPool2d:
    return pool(id, /*isMax=*/false);
  case SpatialOp::AvgPool2dGrad:
    return poolGrad(id, /*isMax=*/false);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

/// y[n,o,i,j] = act(sum over c, p, q of w[o,c,p,q] * x[n,c,..] + b[o]).
void Writer::conv2d(NodeId id) {
  const Node &n = g[id];
  NodeId x = n.inputs[0], w = n.inputs[1];
  NodeId bias = n.inputs.size() > 2 ? n.inputs[2] : -1;
  Img xi(vals[x].shape), yi(vals[id].shape), wi(vals[w].shape);
  int64_t cg = wi.c, og = yi.c / n.win.groups;
  checkTerms(id, cg * n.win.kernel[0] * n.win.kernel[1]);
  for (int64_t b = 0; b < yi.n; ++b)
    for (int64_t o = 0; o < yi.c; ++o)
      for (int64_t i = 0; i < yi.h; ++i)
        for (int64_t j = 0; j < yi.w; ++j) {
          Sum s;
          double acc = 0;
          int64_t c0 = o / og * cg;
          for (int64_t c = 0; c < cg; ++c)
            forWindow(n.win, xi, i, j,
                      [&](int64_t p, int64_t q, int64_t ih, int64_t iw) {
                        int64_t fw = wi.at(o, c, p, q);
                        int64_t fx = xi.at(b, c0 + c, ih, iw);
                        s.add({ref(w, fw) + " * " + ref(x, fx),
                               num(at(w, fw)) + " * " + num(at(x, fx))});
                        acc += at(w, fw) * at(x, fx);
                      });
          Texts t = orZero(s.t);
          if (bias >= 0) {
            t.sym += " + " + ref(bias, o);
            t.nums += " + " + num(at(bias, o));
            acc = at(bias, o) + acc;
          }
          if (n.act != Activation::None) {
            std::string f = activationName(n.act);
            std::string slope = hasSlope(opOf(activationOp(n.act)))
                                    ? ", " + scalarText(n.param)
                                    : std::string();
            t.sym = f + "(" + t.sym + slope + ")";
            t.nums = f + "(" + t.nums + slope + ") = " + f + "(" +
                     scalarText(acc) + slope + ")";
          }
          emit(id, yi.at(b, o, i, j), t);
        }
}

/// dx[n,c,h,w] = sum over the outputs (o, i, j) whose window reads x[n,c,h,w]
/// at tap (p, q) of w[o,c,p,q] * dz[n,o,i,j]: the transposed convolution.
void Writer::conv2dGradInput(NodeId id) {
  const Node &n = g[id];
  NodeId dy = n.inputs[0], w = n.inputs[1];
  NodeId a = n.inputs.size() > 2 ? n.inputs[2] : -1;
  Img yi(vals[dy].shape), xi(vals[id].shape), wi(vals[w].shape);
  int64_t cg = wi.c, og = yi.c / n.win.groups;
  for (int64_t b = 0; b < xi.n; ++b)
    for (int64_t c = 0; c < xi.c; ++c)
      for (int64_t h = 0; h < xi.h; ++h)
        for (int64_t ww = 0; ww < xi.w; ++ww) {
          Sum s;
          int64_t o0 = c / cg * og;
          for (int64_t o = o0; o < o0 + og; ++o)
            for (int64_t i = 0; i < yi.h; ++i) {
              int64_t p = tapOf(n.win, 0, i, h);
              if (p < 0)
                continue;
              for (int64_t j = 0; j < yi.w; ++j) {
                int64_t q = tapOf(n.win, 1, j, ww);
                if (q < 0)
                  continue;
                int64_t fw = wi.at(o, c % cg, p, q), fy = yi.at(b, o, i, j);
                Texts d{ref(dy, fy), num(at(dy, fy))};
                if (a >= 0) {
                  masked(n, dy, a, fy, d);
                  d = {"(" + d.sym + ")", "(" + d.nums + ")"};
                }
                s.add({ref(w, fw) + " * " + d.sym,
                       num(at(w, fw)) + " * " + d.nums});
              }
            }
          checkTerms(id, s.terms);
          emit(id, xi.at(b, c, h, ww), orZero(s.t));
        }
}

/// dw[o,c,p,q] = sum over n, i, j of x[n,c,i*s-pad+p,..] * dz[n,o,i,j]: the
/// correlation of the input and the output's gradient.
void Writer::conv2dGradWeight(NodeId id) {
  const Node &n = g[id];
  NodeId x = n.inputs[0], dy = n.inputs[1];
  NodeId a = n.inputs.size() > 2 ? n.inputs[2] : -1;
  Img xi(vals[x].shape), yi(vals[dy].shape), wi(vals[id].shape);
  int64_t cg = wi.c, og = yi.c / n.win.groups;
  for (int64_t o = 0; o < wi.n; ++o)
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t p = 0; p < wi.h; ++p)
        for (int64_t q = 0; q < wi.w; ++q) {
          Sum s;
          int64_t xc = o / og * cg + c;
          for (int64_t b = 0; b < yi.n; ++b)
            for (int64_t i = 0; i < yi.h; ++i)
              for (int64_t j = 0; j < yi.w; ++j) {
                int64_t ih = i * n.win.stride[0] - n.win.padding[0] +
                             p * n.win.dilation[0];
                int64_t iw = j * n.win.stride[1] - n.win.padding[1] +
                             q * n.win.dilation[1];
                if (ih < 0 || ih >= xi.h || iw < 0 || iw >= xi.w)
                  continue;
                int64_t fx = xi.at(b, xc, ih, iw), fy = yi.at(b, o, i, j);
                Texts d{ref(dy, fy), num(at(dy, fy))};
                if (a >= 0) {
                  masked(n, dy, a, fy, d);
                  d = {"(" + d.sym + ")", "(" + d.nums + ")"};
                }
                s.add({ref(x, fx) + " * " + d.sym,
                       num(at(x, fx)) + " * " + d.nums});
              }
          checkTerms(id, s.terms);
          emit(id, wi.at(o, c, p, q), orZero(s.t));
        }
}

/// channel_sum (dz, masked by act' when it has a), channel_mean,
/// channel_var (unbiased), each over every axis but 1.
void Writer::channelReduce(NodeId id, SpatialOp op) {
  const Node &n = g[id];
  NodeId x = n.inputs[0];
  NodeId a = n.inputs.size() > 1 ? n.inputs[1] : -1;
  Chans s(vals[x].shape);
  checkTerms(id, s.count());
  for (int64_t ch = 0; ch < s.c; ++ch) {
    Sum sum;
    double mean = 0;
    if (op == SpatialOp::ChannelVar)
      mean = channelMoments(vals[x], s, ch).first;
    for (int64_t k = 0; k < s.count(); ++k) {
      int64_t f = s.at(ch, k);
      Texts t{ref(x, f), num(at(x, f))};
      if (op == SpatialOp::ChannelSum && a >= 0)
        masked(n, x, a, f, t);
      if (op == SpatialOp::ChannelVar)
        t = {"(" + t.sym + " - mean(" + channelOf(x, ch) + "))^2",
             "(" + t.nums + " - " + num(mean) + ")^2"};
      sum.add(t);
    }
    Texts t = sum.t;
    if (op != SpatialOp::ChannelSum) {
      std::string count = std::to_string(
          op == SpatialOp::ChannelVar ? s.count() - 1 : s.count());
      t = {"(" + t.sym + ") / " + count, "(" + t.nums + ") / " + count};
    }
    emit(id, ch, t);
  }
}

/// x[n,c,..] * s[c] + t[c].
void Writer::channelAffine(NodeId id) {
  const Node &n = g[id];
  NodeId x = n.inputs[0], sc = n.inputs[1];
  NodeId sh = n.inputs.size() > 2 ? n.inputs[2] : -1;
  Chans s(vals[x].shape);
  for (int64_t f = 0; f < vals[id].numel(); ++f) {
    int64_t ch = f / s.inner % s.c;
    Texts t{ref(x, f) + " * " + ref(sc, ch),
            num(at(x, f)) + " * " + num(at(sc, ch))};
    if (sh >= 0) {
      t.sym += " + " + ref(sh, ch);
      t.nums += " + " + num(at(sh, ch));
    }
    emit(id, f, t);
  }
}

/// batch_normalize: each channel's mean and biased variance, then (x -
/// mean) / sqrt(var + eps) per element. With `grad`, batch_normalize_grad:
/// (dy - mean(dy) - xh * mean(dy * xh)) / sqrt(var + eps) per channel.
void Writer::batchNormalize(NodeId id, bool grad) {
  const Node &n = g[id];
  NodeId x = n.inputs[grad ? 1 : 0];
  Chans s(vals[x].shape);
  checkTerms(id, s.count());
  std::string eps = formatDouble(n.param), cnt = std::to_string(s.count());
  for (int64_t ch = 0; ch < s.c; ++ch) {
    auto [mean, var] = channelMoments(vals[x], s, ch);
    double sd = std::sqrt(var + n.param);
    std::string xs = channelOf(x, ch);
    std::string sdText = "sqrt(var(" + xs + ") + " + eps + ")";
    if (!grad) {
      Sum m, v;
      for (int64_t k = 0; k < s.count(); ++k) {
        int64_t f = s.at(ch, k);
        m.add({elem(x, f), num(at(x, f))});
        v.add({"(" + elem(x, f) + " - mean(" + xs + "))^2",
               "(" + num(at(x, f)) + " - " + num(mean) + ")^2"});
      }
      noteLine(id,
               "mean(" + xs + ") = (" + m.t.sym + ") / " + cnt + " = (" +
                   m.t.nums + ") / " + cnt,
               mean);
      noteLine(id,
               "var(" + xs + ") = (" + v.t.sym + ") / " + cnt + " = (" +
                   v.t.nums + ") / " + cnt,
               var);
      for (int64_t k = 0; k < s.count(); ++k) {
        int64_t f = s.at(ch, k);
        emit(id, f,
             {"(" + elem(x, f) + " - mean(" + xs + ")) / " + sdText,
              "(" + num(at(x, f)) + " - " + num(mean) + ") / " + num(sd)});
      }
      continue;
    }
    NodeId dy = n.inputs[0];
    double cntD = static_cast<double>(s.count());
    double sdy = 0, sdyx = 0;
    for (int64_t k = 0; k < s.count(); ++k) {
      int64_t f = s.at(ch, k);
      sdy += at(dy, f);
      sdyx += at(dy, f) * ((at(x, f) - mean) / sd);
    }
    std::string dys = channelOf(dy, ch), name = nodeName(x);
    // batch_normalize(x)[A,1,2,2]: x's element names with the op around it.
    auto xh = [&](const std::string &e) {
      return "batch_normalize(" + name + ")" + e.substr(name.size());
    };
    for (int64_t k = 0; k < s.count(); ++k) {
      int64_t f = s.at(ch, k);
      double xhf = (at(x, f) - mean) / sd;
      emit(id, f,
           {"(" + elem(dy, f) + " - mean(" + dys + ") - " + xh(elem(x, f)) +
                " * mean(" + dys + " * " + xh(xs) + ")) / " + sdText,
            "(" + num(at(dy, f)) + " - " + num(sdy / cntD) + " - " + num(xhf) +
                " * " + num(sdyx / cntD) + ") / " + num(sd)});
    }
  }
}

/// max(...) or (... + ...) / (kh * kw) of each window, padding skipped
/// (counted in the average's divisor, as PyTorch's count_include_pad).
void Writer::pool(NodeId id, bool isMax) {
  const Node &n = g[id];
  NodeId x = n.inputs[0];
  Img xi(vals[x].shape), yi(vals[id].shape);
  int64_t size = n.win.kernel[0] * n.win.kernel[1];
  checkTerms(id, size);
  for (int64_t b = 0; b < yi.n; ++b)
    for (int64_t c = 0; c < yi.c; ++c)
      for (int64_t i = 0; i < yi.h; ++i)
        for (int64_t j = 0; j < yi.w; ++j) {
          Texts t;
          const char *sep = isMax ? ", " : " + ";
          int64_t terms = 0;
          forWindow(n.win, xi, i, j,
                    [&](int64_t, int64_t, int64_t ih, int64_t iw) {
                      int64_t f = xi.at(b, c, ih, iw);
                      t.sym += (terms ? sep : "") + ref(x, f);
                      t.nums += (terms ? sep : "") +
                                (isMax ? scalarText(at(x, f)) : num(at(x, f)));
                      ++terms;
                    });
          if (isMax)
            t = {"max(" + t.sym + ")", "max(" + t.nums + ")"};
          else if (terms <= 1) { // a corner of the padding: x / 4, or 0 / 4
            std::string d = " / " + std::to_string(size);
            t = orZero(t);
            t = {t.sym + d, t.nums + d};
          } else {
            std::string d = std::to_string(size);
            t = {"(" + t.sym + ") / " + d, "(" + t.nums + ") / " + d};
          }
          emit(id, yi.at(b, c, i, j), t);
        }
}

/// Max pooling's gradient: each dy element goes to its window's first
/// maximum (routed), summed where windows overlap, 0 elsewhere. Average
/// pooling's: each dy element spread evenly over its window.
void Writer::poolGrad(NodeId id, bool isMax) {
  const Node &n = g[id];
  NodeId dy = n.inputs[0];
  Img yi(vals[dy].shape), xi(vals[id].shape);
  std::string size = std::to_string(n.win.kernel[0] * n.win.kernel[1]);
  // The windows that route to each element of x (max), in the order the
  // interpreter adds them.
  std::vector<std::vector<int64_t>> from(
      static_cast<size_t>(xi.n * xi.c * xi.h * xi.w));
  if (isMax) {
    const Value &xv = vals[n.inputs[1]];
    for (int64_t b = 0; b < yi.n; ++b)
      for (int64_t c = 0; c < yi.c; ++c)
        for (int64_t i = 0; i < yi.h; ++i)
          for (int64_t j = 0; j < yi.w; ++j) {
            int64_t best = argmaxOf(xv, xi, n.win, b, c, i, j);
            if (best >= 0)
              from[best].push_back(yi.at(b, c, i, j));
          }
  } else {
    for (int64_t b = 0; b < yi.n; ++b)
      for (int64_t c = 0; c < yi.c; ++c)
        for (int64_t i = 0; i < yi.h; ++i)
          for (int64_t j = 0; j < yi.w; ++j)
            forWindow(n.win, xi, i, j,
                      [&](int64_t, int64_t, int64_t ih, int64_t iw) {
                        from[xi.at(b, c, ih, iw)].push_back(yi.at(b, c, i, j));
                      });
  }
  for (int64_t f = 0; f < xi.n * xi.c * xi.h * xi.w; ++f) {
    Sum s;
    for (int64_t fy : from[f])
      s.add(isMax ? Texts{ref(dy, fy), num(at(dy, fy))}
                  : Texts{ref(dy, fy) + " / " + size,
                          num(at(dy, fy)) + " / " + size});
    checkTerms(id, s.terms);
    Texts t = orZero(s.t);
    if (s.terms == 1 && isMax) // one gradient routed: no parentheses
      t.nums = scalarText(at(dy, from[f][0]));
    if (isMax)
      t.sym += s.terms == 0   ? " (not the max of any window)"
               : s.terms == 1 ? " (the max of its window)"
                              : " (the max of each of these windows)";
    emit(id, f, t);
  }
}

} // namespace nn::scalar
