//===- SpatialGraphs.h - Graphs of the spatial ops for CUDA tests -*- C++ -*-===//
///
/// \file
/// Hand-built graphs that run every spatial op (ir/Ops.def, NN_SPATIAL) and
/// reshape at small odd shapes: convolutions with stride, padding,
/// dilation, groups, 5 x 5 and non-square kernels, with and without a
/// fused activation (and their data, weight and bias gradients against an
/// upstream gradient given as an input); pooling with ties and padding;
/// the channel ops of batch norm, with a buffer (running statistics)
/// updated by the step. Each graph's outputs are the ops' results, so one
/// step compares every kernel with the interpreter.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/ShapeRules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nn::cudatest {

/// Appends nodes with their inferred types.
struct GraphMaker {
  Graph g;

  NodeId leaf(OpKind op, const std::string &name, std::vector<int64_t> dims,
              bool buffer = false) {
    Node n = makeNode(op, {});
    n.name = name;
    n.type = TensorType::of(std::move(dims));
    n.buffer = buffer;
    return g.add(std::move(n));
  }
  NodeId input(const std::string &name, std::vector<int64_t> dims) {
    return leaf(OpKind::Input, name, std::move(dims));
  }
  NodeId param(const std::string &name, std::vector<int64_t> dims,
               bool buffer = false) {
    return leaf(OpKind::Param, name, std::move(dims), buffer);
  }
  NodeId constant(double v) {
    Node n = makeNode(OpKind::Const, {});
    n.values = {v};
    n.type = TensorType::of({});
    return g.add(std::move(n));
  }
  /// Node `op` of `ins`; `win`, `shape`, `act` and `param` as Node's.
  NodeId op(OpKind op, std::vector<NodeId> ins, const Window &win = {},
            std::vector<int64_t> shape = {},
            Activation act = Activation::None, double param = 0) {
    Node n = makeNode(op, std::move(ins));
    n.win = win;
    n.shape = std::move(shape);
    n.act = act;
    n.param = param;
    ShapeResult r = inferNodeType(g, n);
    EXPECT_TRUE(r.error.empty()) << mnemonic(op) << ": " << r.error;
    n.type = r.type;
    return g.add(std::move(n));
  }
  void out(const std::string &name, NodeId id) { g.outputs.push_back({name, id}); }
};

/// One convolution's configuration.
struct ConvCase {
  std::string what;
  int64_t c, h, w, o;
  Window win;
  Activation act = Activation::None;
  double slope = 0; ///< leaky_relu's
};

inline Window window(int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                     int64_t ph, int64_t pw, int64_t dh = 1, int64_t dw = 1,
                     int64_t groups = 1) {
  Window w;
  w.kernel[0] = kh, w.kernel[1] = kw, w.stride[0] = sh, w.stride[1] = sw;
  w.padding[0] = ph, w.padding[1] = pw, w.dilation[0] = dh,
  w.dilation[1] = dw, w.groups = groups;
  return w;
}

/// The convolutions the tests run: every window feature, every form.
inline std::vector<ConvCase> convCases() {
  return {
      {"3x3 pad 1 relu", 3, 7, 9, 5, window(3, 3, 1, 1, 1, 1),
       Activation::Relu},
      {"5x5 stride 2 pad 2 groups 2 sigmoid", 4, 9, 7, 6,
       window(5, 5, 2, 2, 2, 2, 1, 1, 2), Activation::Sigmoid},
      {"3x2 stride [2,1] pad [1,0] dilation [2,1]", 3, 11, 6, 4,
       window(3, 2, 2, 1, 1, 0, 2, 1)},
      {"1x3 depthwise groups 6 leaky_relu", 6, 5, 8, 6,
       window(1, 3, 1, 2, 0, 1, 1, 1, 6), Activation::LeakyRelu, 0.1},
      {"2x2 stride 2 no pad tanh", 2, 8, 6, 3, window(2, 2, 2, 2, 0, 0),
       Activation::Tanh},
  };
}

/// conv2d with and without its bias and activation, and its three
/// gradients (data, weight, bias) of an upstream gradient `dy` (an input)
/// through the activation's output.
inline Graph convGraph(const ConvCase &cc) {
  GraphMaker m;
  m.g.name = "conv";
  const Window &win = cc.win;
  NodeId x = m.input("x", {kBatch, cc.c, cc.h, cc.w});
  NodeId w = m.param("c.weight",
                     {cc.o, cc.c / win.groups, win.kernel[0], win.kernel[1]});
  NodeId b = m.param("c.bias", {cc.o});
  NodeId y = m.op(OpKind::Conv2d, {x, w, b}, win, {}, cc.act, cc.slope);
  NodeId plain = m.op(OpKind::Conv2d, {x, w}, win);
  const std::vector<int64_t> &yd = m.g[y].type.dims;
  NodeId dy = m.input("dy", yd);
  std::vector<NodeId> gi = {dy, w}, gw = {x, dy}, gb = {dy};
  if (cc.act != Activation::None)
    gi.push_back(y), gw.push_back(y), gb.push_back(y);
  std::vector<int64_t> xd = {kBatch, cc.c, cc.h, cc.w};
  m.out("y", y);
  m.out("plain", plain);
  m.out("dx", m.op(OpKind::Conv2dGradInput, gi, win, xd, cc.act, cc.slope));
  m.out("dw", m.op(OpKind::Conv2dGradWeight, gw, win, {}, cc.act, cc.slope));
  m.out("db", m.op(OpKind::ChannelSum, gb, {}, {}, cc.act, cc.slope));
  return m.g;
}

/// Max and average pooling and their gradients: overlapping windows with
/// padding, a non-square window, dilation; the max also of relu(x - 0.6),
/// whose windows tie at 0 (the first maximum takes the gradient).
inline Graph poolGraph() {
  GraphMaker m;
  m.g.name = "pool";
  NodeId x = m.input("x", {kBatch, 3, 9, 7});
  NodeId ties = m.op(OpKind::Relu, {m.op(OpKind::Sub, {x, m.constant(0.6)})});
  struct P {
    const char *name;
    NodeId x;
    Window win;
  } ps[] = {
      {"k3s2p1", x, window(3, 3, 2, 2, 1, 1)},
      {"k2x3s2x1", x, window(2, 3, 2, 1, 0, 1)},
      {"dil2", x, window(2, 2, 1, 2, 1, 0, 2, 2)},
      {"ties", ties, window(3, 3, 1, 1, 1, 1)},
  };
  for (const P &p : ps) {
    std::vector<int64_t> xd = m.g[p.x].type.dims;
    NodeId mp = m.op(OpKind::MaxPool2d, {p.x}, p.win);
    NodeId ap = m.op(OpKind::AvgPool2d, {p.x}, p.win);
    NodeId dy = m.input(std::string("dy_") + p.name, m.g[mp].type.dims);
    std::string n = p.name;
    m.out("max_" + n, mp);
    m.out("avg_" + n, ap);
    m.out("dmax_" + n, m.op(OpKind::MaxPool2dGrad, {dy, p.x}, p.win));
    m.out("davg_" + n, m.op(OpKind::AvgPool2dGrad, {dy}, p.win, xd));
  }
  return m.g;
}

/// The channel ops on an image far from zero (x * 3 + 10: a one-pass
/// variance would lose its digits) with more elements per channel than a
/// block has threads, and on [N, C]; batch norm's running mean and
/// variance (buffers) updated as PyTorch does; reshape.
inline Graph channelGraph() {
  GraphMaker m;
  m.g.name = "channels";
  NodeId x0 = m.input("x", {kBatch, 4, 9, 11});
  NodeId x = m.op(OpKind::Add, {m.op(OpKind::Mul, {x0, m.constant(3.0)}),
                                m.constant(10.0)});
  NodeId flat = m.input("f", {kBatch, 4});
  NodeId dy = m.input("dy", {kBatch, 4, 9, 11});
  NodeId s = m.param("bn.weight", {4}), t = m.param("bn.bias", {4});
  NodeId rm = m.param("bn.running_mean", {4}, true);
  NodeId rv = m.param("bn.running_var", {4}, true);
  NodeId mean = m.op(OpKind::ChannelMean, {x});
  NodeId var = m.op(OpKind::ChannelVar, {x});
  NodeId xh = m.op(OpKind::BatchNormalize, {x, rm, rv}, {}, {},
                   Activation::None, 1e-5);
  m.out("mean", mean);
  m.out("var", var);
  m.out("xh", xh);
  m.out("affine", m.op(OpKind::ChannelAffine, {xh, s, t}));
  m.out("scale", m.op(OpKind::ChannelAffine, {x, s}));
  m.out("bn_grad", m.op(OpKind::BatchNormalizeGrad, {dy, x}, {}, {},
                        Activation::None, 1e-5));
  m.out("sum", m.op(OpKind::ChannelSum, {dy}));
  m.out("sum_relu", m.op(OpKind::ChannelSum, {dy, m.op(OpKind::Relu, {dy})},
                         {}, {}, Activation::Relu));
  m.out("flat_mean", m.op(OpKind::ChannelMean, {flat}));
  m.out("flat_var", m.op(OpKind::ChannelVar, {flat}));
  m.out("flat_xh", m.op(OpKind::BatchNormalize, {flat, rm, rv}, {}, {},
                        Activation::None, 1e-5));
  m.out("reshape", m.op(OpKind::Reshape, {x}, {}, {kBatch, 4 * 9 * 11}));
  // running = 0.9 * running + 0.1 * batch statistic (unbiased variance).
  auto momentum = [&](NodeId run, NodeId stat) {
    return m.op(OpKind::Add, {m.op(OpKind::Mul, {run, m.constant(0.9)}),
                              m.op(OpKind::Mul, {stat, m.constant(0.1)})});
  };
  m.g.updates.push_back({rm, momentum(rm, mean)});
  m.g.updates.push_back({rv, momentum(rv, var)});
  return m.g;
}

} // namespace nn::cudatest
