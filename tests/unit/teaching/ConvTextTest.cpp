//===- ConvTextTest.cpp - nnc explain's text of the spatial layers --------===//
///
/// \file
/// The textbook lines `nnc explain` writes above a conv2d layer, a pooling
/// and a batch norm (tools/teach/ConvText.cpp, PoolNormText.cpp), checked
/// exactly on hand-built graphs in the form the frontend lowers them to;
/// the window notation of the equations and graph labels; and the FLOP
/// counts of a convolution (passes/FlopCount.cpp) and its reuse of each
/// weight against numbers worked out by hand.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "passes/Builder.h"
#include "passes/FlopCount.h"
#include "tools/teach/LayerText.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

NodeId leaf(Graph &g, OpKind op, const std::string &name,
            std::vector<int64_t> dims, bool isWeight = false) {
  Node n = makeNode(op, {});
  n.name = name;
  n.type = TensorType::of(std::move(dims));
  n.isWeight = isWeight;
  return g.add(std::move(n));
}

Window window(int64_t k, int64_t s, int64_t pad) {
  Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  w.padding[0] = w.padding[1] = pad;
  return w;
}

NodeId spatial(Builder &b, OpKind k, std::vector<NodeId> in, Window win,
               const std::string &name, std::vector<int64_t> shape = {}) {
  Node n = makeNode(k, std::move(in));
  n.win = win;
  n.shape = std::move(shape);
  n.name = name;
  return b.typed(std::move(n));
}

std::vector<NodeId> all(const Graph &g) {
  std::vector<NodeId> ids;
  for (NodeId id = 0; id < g.size(); ++id)
    ids.push_back(id);
  return ids;
}

/// The first layers: c1 = conv2d(x, 32, kernel = 3, padding = 1,
/// relu) on 1 x 28 x 28 images, b1 = batch_norm(c1), p1 = maxpool2d(b1,
/// 2), and c2 = conv2d(p1, 64, kernel = 3, padding = 1, relu): 2 x (288 x
/// 784) and 2 x (18,432 x 196) multiply-adds forward.
struct Cnn {
  Graph g;
  NodeId c1conv, c1, b1, p1, c2conv;
  Cnn() {
    Builder b(g);
    NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 1, 28, 28});
    NodeId w1 = leaf(g, OpKind::Param, "c1.weight", {32, 1, 3, 3}, true);
    NodeId b1b = leaf(g, OpKind::Param, "c1.bias", {32});
    c1conv =
        spatial(b, OpKind::Conv2d, {x, w1, b1b}, window(3, 1, 1), "c1.conv");
    c1 = b.unary(OpKind::Relu, c1conv, "c1");
    NodeId rm = leaf(g, OpKind::Param, "b1.running_mean", {32});
    NodeId rv = leaf(g, OpKind::Param, "b1.running_var", {32});
    NodeId gm = leaf(g, OpKind::Param, "b1.weight", {32});
    NodeId bt = leaf(g, OpKind::Param, "b1.bias", {32});
    Node bn = makeNode(OpKind::BatchNormalize, {c1, rm, rv});
    bn.param = 1e-5;
    NodeId xh = b.typed(bn);
    b1 = b.op(OpKind::ChannelAffine, {xh, gm, bt}, "b1");
    p1 = spatial(b, OpKind::MaxPool2d, {b1}, window(2, 2, 0), "p1");
    NodeId w2 = leaf(g, OpKind::Param, "c2.weight", {64, 32, 3, 3}, true);
    NodeId b2 = leaf(g, OpKind::Param, "c2.bias", {64});
    c2conv =
        spatial(b, OpKind::Conv2d, {p1, w2, b2}, window(3, 1, 1), "c2.conv");
    b.unary(OpKind::Relu, c2conv, "c2");
  }
};

TEST(ConvText, FirstConvLayer) {
  Cnn m;
  EXPECT_EQ(
      convLayerText(m.g, all(m.g), 1e-4),
      "  conv layer: X = x f32[N,1,28,28] -> A f32[N,32,28,28];  W = "
      "c1.weight f32[32,1,3,3],  b = c1.bias f32[32];  kernel 3x3, stride 1, "
      "padding 1\n"
      "    forward:   Z[n,o,i,j] = b[o] + sum over c < 1, p < 3, q < 3 of "
      "W[o,c,p,q] * X[n,c,i+p-1,j+q-1]  (X is 0 in the padding),  A = "
      "relu(Z)\n"
      "               output size: (28 + 2*1 - 3) / 1 + 1 = 28 per axis, (in "
      "+ 2 padding - kernel) / stride + 1\n"
      "    backward:  dZ = dA * relu'(Z),  db[o] = sum over n, i, j of "
      "dZ[n,o,i,j]  (channel_sum),\n"
      "               dW[o,c,p,q] = sum over n, i, j of X[n,c,i+p-1,j+q-1] * "
      "dZ[n,o,i,j]  (the correlation of X and dZ: conv2d_grad_weight) + 2 "
      "lambda W (L2),\n"
      "               dX is not computed: X is the input, it needs no "
      "gradient\n"
      "               relu'(Z) = step(Z): 1 where Z > 0, else 0\n"
      "    reuse:     each of the 288 weights is used at 28 x 28 = 784 output "
      "positions per sample: 225,792 multiply-adds (a dense layer uses each "
      "weight once)\n");
}

// The second conv: its data gradient is the transposed convolution.
TEST(ConvText, LaterConvLayerHasTheTransposedConvolution) {
  Cnn m;
  std::vector<NodeId> line;
  for (NodeId id = m.c2conv - 3; id < m.g.size(); ++id)
    line.push_back(id);
  std::string t = convLayerText(m.g, line, 0);
  EXPECT_EQ(t.substr(0, t.find('\n')),
            "  conv layer: X = p1 f32[N,32,14,14] -> A f32[N,64,14,14];  W = "
            "c2.weight f32[64,32,3,3],  b = c2.bias f32[64];  kernel 3x3, "
            "stride 1, padding 1");
  EXPECT_NE(t.find("sum over c < 32, p < 3, q < 3 of W[o,c,p,q] * "
                   "X[n,c,i+p-1,j+q-1]"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("\n               dX[n,c,i+p-1,j+q-1] += W[o,c,p,q] * "
                   "dZ[n,o,i,j] for every o, i, j, p, q  (a transposed "
                   "convolution: each dZ spread back through the kernel; "
                   "conv2d_grad_input)\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("L2"), std::string::npos) << t; // no l2 in this recipe
  EXPECT_NE(t.find("each of the 18,432 weights is used at 14 x 14 = 196 "
                   "output positions per sample: 3,612,672 multiply-adds"),
            std::string::npos)
      << t;
}

// A grouped, strided, dilated conv without bias or activation on a
// value that is not the input: its indices carry stride and dilation.
TEST(ConvText, GroupedStridedDilatedConv) {
  Graph g;
  Builder b(g);
  NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 4, 9, 9});
  NodeId h = b.unary(OpKind::Relu, x, "h");
  NodeId w = leaf(g, OpKind::Param, "c.weight", {6, 2, 3, 3}, true);
  Node n = makeNode(OpKind::Conv2d, {h, w});
  n.name = "c";
  n.win = window(3, 2, 1);
  n.win.dilation[0] = n.win.dilation[1] = 2;
  n.win.groups = 2;
  b.typed(n);
  std::string t = convLayerText(g, all(g), 0);
  EXPECT_EQ(t.substr(0, t.find('\n')),
            "  conv layer: X = h f32[N,4,9,9] -> Z f32[N,6,4,4];  W = c.weight "
            "f32[6,2,3,3];  kernel 3x3, stride 2, padding 1, dilation 2, "
            "groups 2");
  EXPECT_NE(t.find("Z[n,o,i,j] = sum over the 2 channels c of o's group (of "
                   "2), p < 3, q < 3 of W[o,c,p,q] * X[n,c,2i+2p-1,2j+2q-1]  "
                   "(X is 0 in the padding)\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("output size: (9 + 2*1 - 2*(3 - 1) - 1) / 2 + 1 = 4 per "
                   "axis"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("dX[n,c,2i+2p-1,2j+2q-1] += W[o,c,p,q] * dZ[n,o,i,j]"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("db[o]"), std::string::npos) << t;   // no bias
  EXPECT_EQ(t.find("dZ = dA"), std::string::npos) << t; // no activation
}

TEST(ConvText, MaxPooling) {
  Cnn m;
  EXPECT_EQ(poolText(m.g, {m.p1}),
            "  max pooling: X = b1 f32[N,32,28,28] -> Y f32[N,32,14,14];  "
            "kernel 2x2, stride 2, padding 0;  no parameters\n"
            "    forward:   Y[n,c,i,j] = max over p < 2, q < 2 of "
            "X[n,c,2i+p,2j+q]\n"
            "               output size: (28 + 2*0 - 2) / 2 + 1 = 14 rows, "
            "(28 + 2*0 - 2) / 2 + 1 = 14 columns\n"
            "    backward:  dX[n,c,h,w] = the sum of dY[n,c,i,j] over the "
            "windows (i,j) whose first maximum (in row-major order) is "
            "X[n,c,h,w], else 0:\n"
            "               each gradient is routed to its window's max, the "
            "other inputs get none (maxpool2d_grad)\n");
}

TEST(ConvText, AveragePoolingWithPadding) {
  Graph g;
  Builder b(g);
  NodeId x = leaf(g, OpKind::Input, "h", {kBatch, 4, 5, 5});
  NodeId p = spatial(b, OpKind::AvgPool2d, {x}, window(3, 2, 1), "p");
  EXPECT_EQ(poolText(g, {p}),
            "  average pooling: X = h f32[N,4,5,5] -> Y f32[N,4,3,3];  "
            "kernel 3x3, stride 2, padding 1;  no parameters\n"
            "    forward:   Y[n,c,i,j] = (sum over p < 3, q < 3 of "
            "X[n,c,2i+p-1,2j+q-1]) / 9  (the padding counted, as 0)\n"
            "               output size: (5 + 2*1 - 3) / 2 + 1 = 3 rows, "
            "(5 + 2*1 - 3) / 2 + 1 = 3 columns\n"
            "    backward:  dX[n,c,2i+p-1,2j+q-1] += dY[n,c,i,j] / 9 for every "
            "i, j, p, q: each gradient spread evenly over its window "
            "(avgpool2d_grad)\n");
}

TEST(ConvText, BatchNorm) {
  Cnn m;
  EXPECT_EQ(batchNormText(m.g, all(m.g)),
            "  batch norm: X = c1 f32[N,32,28,28] -> Y f32[N,32,28,28];  "
            "gamma = b1.weight f32[32],  beta = b1.bias f32[32],  eps = "
            "1e-05\n"
            "    forward:   mu[c] = mean of X[:,c,:,:],  var[c] = mean of "
            "(X[:,c,:,:] - mu[c])^2  (over n, h, w: N x 28 x 28 values per "
            "channel; var biased)\n"
            "               Xh = (X - mu[c]) / sqrt(var[c] + eps),  Y = Xh * "
            "gamma[c] + beta[c]\n"
            "               b1.running_mean and b1.running_var move toward mu "
            "and the unbiased var by the momentum (the updates below)\n"
            "    evaluation: Y = (X - b1.running_mean[c]) / "
            "sqrt(b1.running_var[c] + eps) * gamma[c] + beta[c]: one "
            "channel_affine (nnc eval, predict)\n"
            "    backward:  dgamma[c] = sum of dY * Xh,  dbeta[c] = sum of dY  "
            "(channel_sum, per channel),  dXh = dY * gamma[c],\n"
            "               dX = (dXh - mean(dXh) - Xh * mean(dXh * Xh)) / "
            "sqrt(var[c] + eps)  (batch_normalize_grad, means per channel)\n");
}

TEST(ConvText, WindowNotation) {
  Node n = makeNode(OpKind::Conv2d, {});
  n.win.kernel[0] = 3, n.win.kernel[1] = 2;
  n.win.stride[0] = n.win.stride[1] = 2;
  n.win.padding[1] = 1;
  n.win.dilation[0] = n.win.dilation[1] = 2;
  n.win.groups = 2;
  n.act = Activation::Relu;
  EXPECT_EQ(windowText(n), "kernel 3x2, stride 2, padding 0x1, dilation 2, "
                           "groups 2, act relu");
  EXPECT_EQ(tapIndexText(n.win, 0, "i", "p"), "2i+2p");
  EXPECT_EQ(tapIndexText(n.win, 1, "j", "q"), "2j+2q-1");
  Node s = makeNode(OpKind::ChannelSum, {});
  EXPECT_EQ(windowText(s), "");
  s.act = Activation::Tanh;
  EXPECT_EQ(windowText(s), "act tanh");
}

// Why 6 x params undercounts a CNN, with the numbers of each conv layer.
TEST(ConvText, ReuseOfEachWeight) {
  Cnn m;
  std::vector<ConvReuse> r = convReuse(m.g);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "c1.weight");
  EXPECT_EQ(r[0].weights, 288);
  EXPECT_EQ(r[0].positions, 784);
  EXPECT_EQ(r[0].multiplyAdds, 288.0 * 784);
  EXPECT_EQ(r[1].multiplyAdds, 18432.0 * 196);
  EXPECT_EQ(convReuseText(m.g, "  "),
            "  a convolution uses each weight at every output position "
            "(H_out x W_out times per sample), not once:\n"
            "    c1.weight: 288 weights x 784 positions = 225,792 "
            "multiply-adds per sample forward\n"
            "    c2.weight: 18,432 weights x 196 positions = 3,612,672 "
            "multiply-adds per sample forward\n"
            "  so the convolutions do 205.0 x as many multiply-adds as they "
            "have weights (3,838,464 for 18,720), and 6 x params,\n"
            "  which counts one per weight, undercounts them by that factor "
            "(the backward, dW and dX, likewise)\n");
  Graph dense;
  EXPECT_EQ(convReuseText(dense, ""), "");
}

double perSample(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 2) - nodeFlops(g, id, 1);
}

// FlopCount's counts of a conv layer and its gradients, by hand: 2 FLOPs
// per multiply-add, C/groups x kh x kw of them per output element, plus
// one per element for the bias and one for a folded activation.
TEST(ConvText, ConvFlopsByHand) {
  Cnn m;
  // c1: 32 x 28 x 28 = 25,088 outputs of 1 x 3 x 3 = 9 products, + bias.
  EXPECT_EQ(perSample(m.g, m.c1conv), 2.0 * 25088 * 9 + 25088);
  EXPECT_EQ(convMultiplyAdds(m.g, m.c1conv), 25088.0 * 9);
  // c2: 64 x 14 x 14 = 12,544 outputs of 32 x 3 x 3 = 288 products.
  EXPECT_EQ(perSample(m.g, m.c2conv), 2.0 * 12544 * 288 + 12544);
  // Its gradients: as many products each; the folded relu' costs 2 per
  // element of dy (a multiply and the derivative).
  Builder b(m.g);
  NodeId dy = leaf(m.g, OpKind::Input, "dy", {kBatch, 64, 14, 14});
  NodeId w2 = m.g[m.c2conv].inputs[1];
  NodeId dx = spatial(b, OpKind::Conv2dGradInput, {dy, w2}, window(3, 1, 1),
                      "d.p1", {kBatch, 32, 14, 14});
  EXPECT_EQ(perSample(m.g, dx), 2.0 * 12544 * 288);
  EXPECT_EQ(convMultiplyAdds(m.g, dx), 12544.0 * 288);
  Node dwn = makeNode(OpKind::Conv2dGradWeight, {m.p1, dy, m.c2conv});
  dwn.win = window(3, 1, 1);
  dwn.act = Activation::Relu;
  NodeId dw = b.typed(dwn);
  // (The derivative is applied to dy, operand 1, not to x, operand 0: x
  // has half as many elements here.)
  EXPECT_EQ(perSample(m.g, dw), 2.0 * 12544 * 288 + 2 * 12544);
  EXPECT_EQ(convMultiplyAdds(m.g, dw), 12544.0 * 288);
  Node dxa = m.g[dx];
  dxa.inputs.push_back(m.c2conv);
  dxa.act = Activation::Relu;
  NodeId dxr = b.typed(dxa);
  EXPECT_EQ(perSample(m.g, dxr), 2.0 * 12544 * 288 + 2 * 12544);
  Node dbn = makeNode(OpKind::ChannelSum, {dy, m.c2conv});
  dbn.act = Activation::Relu;
  NodeId db = b.typed(dbn);
  EXPECT_EQ(perSample(m.g, db), 12544.0 + 2 * 12544);
  // Stride 2, no padding: 7 x 7 -> 3 x 3; 4 x 9 outputs of 3 x 3 x 3.
  Graph g;
  Builder gb(g);
  NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 3, 7, 7});
  NodeId w = leaf(g, OpKind::Param, "w", {4, 3, 3, 3});
  NodeId c = spatial(gb, OpKind::Conv2d, {x, w}, window(3, 2, 0), "c");
  EXPECT_EQ(g[c].type.str(), "f32[N,4,3,3]");
  EXPECT_EQ(perSample(g, c), 2.0 * 36 * 27);
  // Two groups: each output sees 2 of the 4 channels.
  NodeId xg = leaf(g, OpKind::Input, "xg", {kBatch, 4, 5, 5});
  NodeId wg = leaf(g, OpKind::Param, "wg", {6, 2, 3, 3});
  Node gn = makeNode(OpKind::Conv2d, {xg, wg});
  gn.win = window(3, 1, 1);
  gn.win.groups = 2;
  NodeId cg = gb.typed(gn);
  EXPECT_EQ(perSample(g, cg), 2.0 * 150 * 18);
  EXPECT_EQ(convMultiplyAdds(g, cg), 150.0 * 18);
}

} // namespace
