//===- ConvFusionTest.cpp - The conv fusion, forward and backward ---------===//
///
/// \file
/// Hand-built convolution layers, shaped as the frontend and autodiff build
/// them: conv2d(x, w, b) then an activation, and the activation's gradient
/// (buildMaskedGrad, autodiff's own form) feeding conv2d_grad_input,
/// conv2d_grad_weight and channel_sum. For every activation of the op
/// table: the fused graph (which ops carry which activation and operands),
/// its log lines, and that it computes what the unfused graph computes on
/// the interpreter (to 1e-12). Also the candidates left alone, with the
/// reason in the log, and that the dense path is untouched.
///
//===----------------------------------------------------------------------===//

#include "LeafValues.h"
#include "../passes/TestGraphs.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Builder.h"
#include "passes/DCE.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "passes/Pipeline.h"
#include "passes/grad/ElementwiseGrad.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

constexpr double kSlope = 0.2;

double slopeOf(Activation act) {
  return act == Activation::LeakyRelu ? kSlope : 0.0;
}

/// A 3 x 3 window with padding 1 and stride `stride`.
Window window3(int64_t stride = 1) {
  Window w;
  w.kernel[0] = w.kernel[1] = 3;
  w.padding[0] = w.padding[1] = 1;
  w.stride[0] = w.stride[1] = stride;
  return w;
}

/// A layer: x [N,2,5,5], conv2d(x, c.weight [4,2/groups,3,3], c.bias [4]) (the
/// bias left out when !bias), named z, and a = act(z) named "c".
struct Layer {
  Graph g;
  NodeId x, w, b = -1, z, a = -1;
};

Layer forward(std::optional<Activation> act, bool bias = true,
              Window win = window3()) {
  Layer l;
  Graph &g = l.g;
  g.name = "cnn";
  l.x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 2, 5, 5}),
             at(2, 7));
  l.w = param(g, "c.weight", {4, 2 / win.groups, 3, 3}, true, at(4, 1));
  std::vector<NodeId> ins = {l.x, l.w};
  if (bias) {
    l.b = param(g, "c.bias", {4}, false, at(4, 1));
    ins.push_back(l.b);
  }
  Builder b(g);
  b.loc = at(4, 5, 40);
  Node conv = makeNode(OpKind::Conv2d, ins);
  conv.win = win;
  conv.name = act ? "" : "c";
  l.z = b.typed(conv);
  if (act) {
    l.a = b.unary(opOf(activationOp(*act)), l.z, "c");
    g[l.a].param = slopeOf(*act);
  }
  return l;
}

/// The layer's backward from an upstream gradient `dy` (an input), as
/// autodiff builds it: dz = dy * act'(.) by buildMaskedGrad, then the
/// three gradients of the convolution. Outputs: the activation, dx, dw,
/// db.
struct Backward {
  Layer l;
  NodeId dz = -1, dx = -1, dw = -1, db = -1;
};

Backward backward(Activation act, bool bias = true, Window win = window3()) {
  Backward r;
  r.l = forward(act, bias, win);
  Graph &g = r.l.g;
  NodeId dy = leaf(g, OpKind::Input, "dy", g[r.l.a].type);
  Builder b(g);
  b.loc = at(4, 5, 40);
  r.dz = buildMaskedGrad(b, act, dy, r.l.z, r.l.a, slopeOf(act));
  Node gi = makeNode(OpKind::Conv2dGradInput, {r.dz, r.l.w});
  gi.win = win;
  gi.shape = g[r.l.x].type.dims;
  gi.name = "d.x";
  r.dx = b.typed(gi);
  Node gw = makeNode(OpKind::Conv2dGradWeight, {r.l.x, r.dz});
  gw.win = win;
  gw.name = "d.c.weight";
  r.dw = b.typed(gw);
  r.db = b.unary(OpKind::ChannelSum, r.dz, "d.c.bias");
  g.outputs.push_back({"c", r.l.a});
  g.outputs.push_back({"dx", r.dx});
  g.outputs.push_back({"dw", r.dw});
  g.outputs.push_back({"db", r.db});
  return r;
}

/// Fixed leaf values: a smooth pattern of both signs, different per leaf.
ValueMap leaves(const Graph &g) {
  return test::leafValues(g, 2, [](const Node &n, int64_t i) {
    return std::sin(0.7 * static_cast<double>(i) + 0.9 * n.name.size());
  });
}

/// fuseConv and DCE on `g`; the result verifies and computes `g`'s outputs
/// on the interpreter to 1e-12.
Graph fuseChecked(const Graph &g, FusionLog &log) {
  Graph out = dce(fuseConv(g, log));
  std::vector<std::string> errs = verifyGraph(out);
  EXPECT_TRUE(errs.empty()) << (errs.empty() ? "" : errs[0]);
  test::expectSameOutputs(g, out, leaves(g), 1e-12);
  return out;
}

std::string logText(const FusionLog &log) {
  std::string s;
  for (const FusionLog::Entry &e : log.entries)
    s += e.fusion + (e.fused ? " fused: " : " kept: ") + e.text + "\n";
  return s;
}

bool has(const FusionLog &log, const std::string &line) {
  return logText(log).find(line) != std::string::npos;
}

std::vector<const Node *> nodesOf(const Graph &g, OpKind k) {
  std::vector<const Node *> r;
  for (const Node &n : g.nodes)
    if (n.op == k)
      r.push_back(&n);
  return r;
}

const Node &named(const Graph &g, const std::string &name) {
  for (const Node &n : g.nodes)
    if (n.name == name)
      return n;
  ADD_FAILURE() << "no node " << name;
  return g.nodes.front();
}

} // namespace

TEST(FuseConv, ActivationJoinsTheConvolution) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    Layer l = forward(Activation::Relu, bias, window3(2));
    l.g.outputs.push_back({"c", l.a});
    FusionLog log;
    Graph out = fuseChecked(l.g, log);
    ASSERT_EQ(nodesOf(out, OpKind::Conv2d).size(), 1u);
    const Node &c = *nodesOf(out, OpKind::Conv2d)[0];
    EXPECT_EQ(c.name, "c");
    EXPECT_EQ(c.act, Activation::Relu);
    EXPECT_EQ(c.win, window3(2));
    EXPECT_EQ(c.inputs.size(), bias ? 3u : 2u);
    EXPECT_EQ(c.type, TensorType::of({kBatch, 4, 3, 3}));
    EXPECT_EQ(c.loc.line, 4);
    EXPECT_TRUE(nodesOf(out, OpKind::Relu).empty());
    EXPECT_EQ(logText(log), std::string("conv fused: %") +
                                (bias ? "3" : "2") +
                                " (conv2d) + %c -> %c = conv2d {act = relu}\n");
  }
}

TEST(FuseConv, EveryActivationFusesForward) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    Layer l = forward(act);
    l.g.outputs.push_back({"c", l.a});
    FusionLog log;
    Graph out = fuseChecked(l.g, log);
    const Node &c = named(out, "c");
    EXPECT_EQ(c.op, OpKind::Conv2d);
    EXPECT_EQ(c.act, act);
    EXPECT_EQ(c.param, slopeOf(act));
    EXPECT_TRUE(nodesOf(out, opOf(activationOp(act))).empty());
  }
}

TEST(FuseConv, PreActivationWithAnotherUseStaysApart) {
  Layer l = forward(Activation::Relu);
  l.g.outputs.push_back({"c", l.a});
  l.g.outputs.push_back({"z", l.z});
  FusionLog log;
  Graph out = fuseChecked(l.g, log);
  EXPECT_EQ(named(out, "c").op, OpKind::Relu);
  EXPECT_EQ(nodesOf(out, OpKind::Conv2d)[0]->act, Activation::None);
  EXPECT_EQ(logText(log),
            "conv kept: %3 (conv2d): relu %c not fused: its pre-activation "
            "has 2 uses: %c, output 'z'\n");
}

TEST(FuseConv, NoActivationNoEntry) {
  Layer l = forward(std::nullopt);
  l.g.outputs.push_back({"c", l.z});
  FusionLog log;
  Graph out = fuseChecked(l.g, log);
  EXPECT_EQ(named(out, "c").act, Activation::None);
  EXPECT_TRUE(log.entries.empty()) << logText(log);
}

TEST(FuseConv, EveryActivationFoldsIntoTheConvolutionGradients) {
  for (Activation act : allActivations()) {
    SCOPED_TRACE(activationName(act));
    Backward r = backward(act);
    FusionLog log;
    Graph out = fuseChecked(r.l.g, log);
    // gelu and silu: the fused gradients read z, so z keeps two users and
    // the forward stays apart.
    bool fromInput = gradFromInput(act);
    const Node &c = named(out, "c");
    EXPECT_EQ(c.op, fromInput ? opOf(activationOp(act)) : OpKind::Conv2d);
    NodeId operand = fromInput ? r.l.z : r.l.a;
    for (auto [name, op] :
         {std::pair{"d.x", OpKind::Conv2dGradInput},
          {"d.c.weight", OpKind::Conv2dGradWeight},
          {"d.c.bias", OpKind::ChannelSum}}) {
      const Node &n = named(out, name);
      EXPECT_EQ(n.op, op) << name;
      EXPECT_EQ(n.act, act) << name;
      EXPECT_EQ(n.param, slopeOf(act)) << name;
      // dy in dz's place, `a` last; the window and shape kept.
      ASSERT_EQ(n.inputs.size(), op == OpKind::ChannelSum ? 2u : 3u) << name;
      EXPECT_EQ(out[n.inputs.back()].name, r.l.g[operand].name) << name;
      EXPECT_EQ(out[n.inputs[op == OpKind::Conv2dGradWeight ? 1 : 0]].name,
                "dy")
          << name;
      if (op != OpKind::ChannelSum) {
        EXPECT_EQ(n.win, window3()) << name;
      }
    }
    EXPECT_EQ(named(out, "d.x").shape, r.l.g[r.l.x].type.dims);
    // The masked gradient is gone: only the forward's activation op, if
    // any, and no mul of dy remain.
    EXPECT_TRUE(nodesOf(out, OpKind::Mul).empty()) << "dz still computed";
    std::string dz = std::string("%") + std::to_string(r.dz) + " (mul) = %dy * " +
                     activationName(act) + "'(%" +
                     (fromInput ? std::to_string(r.l.z) + " (conv2d)" : "c") +
                     "): folded into input gradient %d.x, weight gradient "
                     "%d.c.weight, bias gradient %d.c.bias\n";
    EXPECT_TRUE(has(log, "conv fused: " + dz)) << logText(log);
    std::string forwardLine =
        fromInput ? std::string("'s gradient is computed from its input, so "
                                "the input is kept")
                  : std::string(" + %c -> %c = conv2d {act = ") +
                        activationName(act) + "}";
    EXPECT_TRUE(has(log, forwardLine)) << logText(log);
  }
}

// The window (stride, dilation, groups) travels with every fused op.
TEST(FuseConv, GradientsWithAWindowAndNoBias) {
  Window win = window3(2);
  win.dilation[0] = 2;
  win.groups = 2;
  Backward r = backward(Activation::LeakyRelu, false, win);
  FusionLog log;
  Graph out = fuseChecked(r.l.g, log);
  for (const char *name : {"c", "d.x", "d.c.weight"}) {
    EXPECT_EQ(named(out, name).act, Activation::LeakyRelu) << name;
    EXPECT_EQ(named(out, name).win, win) << name;
  }
  EXPECT_EQ(named(out, "c").op, OpKind::Conv2d);
  EXPECT_EQ(named(out, "c").inputs.size(), 2u);
}

// A masked gradient that an output also needs is computed anyway: the
// convolution gradients keep reading it, and the log says why.
TEST(FuseConv, MaskedGradientWithAnotherUserIsLeftAlone) {
  Backward r = backward(Activation::Tanh);
  r.l.g.outputs.push_back({"dz", r.dz});
  FusionLog log;
  Graph out = fuseChecked(r.l.g, log);
  for (const char *name : {"d.x", "d.c.weight", "d.c.bias"}) {
    EXPECT_EQ(named(out, name).act, Activation::None) << name;
    EXPECT_EQ(named(out, name).inputs.size(),
              std::string(name) == "d.c.bias" ? 1u : 2u)
        << name;
  }
  EXPECT_TRUE(has(log, "conv kept: %" + std::to_string(r.dz) +
                           " (mul) = %dy * tanh'(%c): not fused: also used "
                           "by output 'dz' (not a convolution gradient), so "
                           "it is computed anyway and read as it is by input "
                           "gradient %d.x, weight gradient %d.c.weight, bias "
                           "gradient %d.c.bias\n"))
      << logText(log);
  // The forward still fuses: tanh's gradient reads its output.
  EXPECT_EQ(named(out, "c").op, OpKind::Conv2d);
}

// A gradient already carrying an activation, and a masked gradient that
// feeds no convolution gradient (the dense-grad fusion's), are left alone
// and not logged.
TEST(FuseConv, LeavesOtherGradientsAlone) {
  Backward r = backward(Activation::Sigmoid);
  FusionLog first;
  Graph once = fuseConv(r.l.g, first);
  FusionLog second;
  Graph twice = fuseConv(once, second);
  EXPECT_TRUE(second.entries.empty()) << logText(second);
  EXPECT_EQ(printGraph(twice), printGraph(once));

  FusionLog log;
  DiagEngine diags;
  Graph mlp =
      runPipeline(mlpGraph(), Recipe{}, Stage::Opt, PipelineOptions{}, diags);
  EXPECT_EQ(printGraph(fuseConv(mlp, log)), printGraph(mlp));
  EXPECT_TRUE(log.entries.empty()) << logText(log);
}

// A residual block, r = relu(conv2d(x) + x): the masked gradient of the
// sum's relu reaches x through the skip too, so it is computed anyway and
// the convolution's gradients read it (the log says so); the convolution,
// whose user is the add, keeps no activation.
TEST(FuseConv, ResidualBlockKeepsTheSkipsGradient) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 2, 5, 5}));
  NodeId w = param(g, "c.weight", {2, 2, 3, 3}, true);
  NodeId bias = param(g, "c.bias", {2}, false);
  Builder b(g);
  Node conv = makeNode(OpKind::Conv2d, {x, w, bias});
  conv.win = window3();
  NodeId z = b.typed(conv);
  NodeId s = b.binary(OpKind::Add, z, x, "s");
  NodeId r = b.unary(OpKind::Relu, s, "r");
  NodeId dy = leaf(g, OpKind::Input, "dy", g[r].type);
  NodeId dz = buildMaskedGrad(b, Activation::Relu, dy, s, r);
  Node gi = makeNode(OpKind::Conv2dGradInput, {dz, w});
  gi.win = window3();
  gi.shape = g[x].type.dims;
  NodeId dxConv = b.typed(gi);
  Node gw = makeNode(OpKind::Conv2dGradWeight, {x, dz});
  gw.win = window3();
  gw.name = "d.c.weight";
  NodeId dw = b.typed(gw);
  g.outputs.push_back({"r", r});
  g.outputs.push_back({"dx", b.binary(OpKind::Add, dxConv, dz, "d.x")});
  g.outputs.push_back({"dw", dw});
  g.outputs.push_back({"db", b.unary(OpKind::ChannelSum, dz, "d.c.bias")});
  FusionLog log;
  Graph out = fuseChecked(g, log);
  EXPECT_EQ(named(out, "d.c.weight").act, Activation::None);
  EXPECT_EQ(named(out, "d.c.bias").act, Activation::None);
  EXPECT_EQ(nodesOf(out, OpKind::Conv2dGradInput)[0]->act, Activation::None);
  EXPECT_EQ(named(out, "r").op, OpKind::Relu);
  EXPECT_EQ(nodesOf(out, OpKind::Conv2d)[0]->act, Activation::None);
  EXPECT_EQ(logText(log), "conv kept: %" + std::to_string(dz) +
                              " (mul) = %dy * relu'(%r): not fused: also "
                              "used by %d.x (not a convolution gradient), so "
                              "it is computed anyway and read as it is by "
                              "input gradient %" +
                              std::to_string(dz + 1) +
                              " (conv2d_grad_input), weight gradient "
                              "%d.c.weight, bias gradient %d.c.bias\n");
}
