//===- ConvStepTest.cpp - The conv fusion on a whole CNN training step ----===//
///
/// \file
/// A small CNN built by hand as the frontend lowers one (conv2d + relu,
/// maxpool, conv2d + relu, flatten, dense, cross-entropy over softmax),
/// through the whole pipeline: autodiff, CSE, DCE, then the fusions. The
/// fused step has both convolutions carrying relu, every convolution
/// gradient the relu derivative, no step mask left; the log says so; and
/// every fusion set (all, none, each alone) computes on the interpreter
/// the outputs and updates of the unfused step, to 1e-12.
///
//===----------------------------------------------------------------------===//

#include "LeafValues.h"
#include "../passes/TestGraphs.h"

#include "ir/Recipe.h"
#include "passes/Builder.h"
#include "passes/Fuse.h"
#include "passes/Pipeline.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

/// conv2d(x, name.weight [out,in,3,3], name.bias) with padding 1, then relu
/// named `name`.
NodeId convRelu(Graph &g, NodeId x, int64_t in, int64_t out,
                const std::string &name, int line) {
  NodeId w = param(g, name + ".weight", {out, in, 3, 3}, true, at(line, 1));
  NodeId b = param(g, name + ".bias", {out}, false, at(line, 1));
  Builder bld(g);
  bld.loc = at(line, 6, 30);
  Node c = makeNode(OpKind::Conv2d, {x, w, b});
  c.win.kernel[0] = c.win.kernel[1] = 3;
  c.win.padding[0] = c.win.padding[1] = 1;
  NodeId z = bld.typed(c);
  return bld.unary(OpKind::Relu, z, name);
}

/// x [N,1,6,6] -> c1 (2 channels) -> maxpool 2 -> c2 (3 channels) ->
/// flatten [N,27] -> dense 4 -> cross_entropy(softmax).
Graph cnnGraph() {
  Graph g;
  g.name = "cnn";
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 1, 6, 6}),
                  at(2, 7));
  Node yl = makeNode(OpKind::Label, {}, at(3, 7));
  yl.name = "y";
  yl.type = TensorType::of({kBatch}, DType::I32);
  yl.labelKind = LabelKind::Class;
  yl.classes = 4;
  NodeId y = g.add(yl);
  NodeId c1 = convRelu(g, x, 1, 2, "c1", 4);
  Builder b(g);
  b.loc = at(5, 6, 15);
  Node pool = makeNode(OpKind::MaxPool2d, {c1});
  pool.name = "p1";
  for (int a = 0; a < 2; ++a)
    pool.win.kernel[a] = pool.win.stride[a] = 2;
  NodeId p1 = b.typed(pool);
  NodeId c2 = convRelu(g, p1, 2, 3, "c2", 6);
  b.loc = at(7, 6, 11);
  NodeId flat = b.reshape(c2, {kBatch, 27}, "g");
  NodeId out = dense(g, flat, 27, 4, "out", std::nullopt, 8);
  NodeId p = op(g, OpKind::Softmax, {out}, "", at(9, 20, 12));
  NodeId l = op(g, OpKind::CrossEntropy, {p, y}, "loss", at(9, 6, 26));
  g.outputs.push_back({"loss", l});
  g.outputs.push_back({"pred", p});
  return g;
}

Recipe momentumRecipe() {
  Recipe r;
  r.optimizer.lr = 0.1;
  r.optimizer.momentum = 0.9;
  return r;
}

/// The step compiled to `stop` with fusions `f`.
Graph compile(Stage stop, const std::set<std::string> &f,
              FusionLog *log = nullptr) {
  PipelineOptions opts;
  opts.fusions = f;
  opts.fusionLog = log;
  DiagEngine diags;
  return runPipeline(cnnGraph(), momentumRecipe(), stop, opts, diags);
}

ValueMap leaves(const Graph &g) {
  return test::leafValues(g, 3, [](const Node &n, int64_t i) {
    double x = std::sin(0.37 * static_cast<double>(i) + n.name.size());
    if (n.op == OpKind::Label)
      return static_cast<double>(i % 4);
    if (n.op == OpKind::Param || n.op == OpKind::State)
      return x * 0.5;
    return x;
  });
}

void expectClose(const ValueMap &want, const ValueMap &got,
                 const std::string &what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (const auto &[name, w] : want) {
    const Value &v = got.at(name);
    ASSERT_EQ(w.shape, v.shape) << what << ": " << name;
    for (int64_t i = 0; i < w.numel(); ++i)
      EXPECT_NEAR(v.data[i], w.data[i],
                  1e-12 * std::max(1.0, std::fabs(w.data[i])))
          << what << ": " << name << "[" << i << "]";
  }
}

int count(const Graph &g, OpKind k, Activation act) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k && node.act == act;
  return n;
}

} // namespace

TEST(ConvStep, BothLayersFuseForwardAndBackward) {
  FusionLog log;
  Graph g = compile(Stage::Fused, parseFusionList("all"), &log);
  EXPECT_EQ(count(g, OpKind::Conv2d, Activation::Relu), 2);
  EXPECT_EQ(count(g, OpKind::Conv2d, Activation::None), 0);
  // c1 reads the input x, which needs no gradient.
  EXPECT_EQ(count(g, OpKind::Conv2dGradInput, Activation::Relu), 1);
  EXPECT_EQ(count(g, OpKind::Conv2dGradWeight, Activation::Relu), 2);
  EXPECT_EQ(count(g, OpKind::ChannelSum, Activation::Relu), 2);
  for (OpKind k : {OpKind::Relu, OpKind::Step, OpKind::Conv2dGradInput,
                   OpKind::Conv2dGradWeight, OpKind::ChannelSum})
    EXPECT_EQ(count(g, k, Activation::None), 0) << mnemonic(k);
  std::string text = log.str();
  for (const char *line :
       {" + %c1 -> %c1 = conv2d {act = relu}\n",
        " + %c2 -> %c2 = conv2d {act = relu}\n", " * relu'(%c1): folded into "
        "weight gradient", " * relu'(%c2): folded into "})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  EXPECT_EQ(text.find("[kept]"), std::string::npos) << text;
  // dense-grad sees no convolution layer's activation gradient.
  EXPECT_EQ(text.find("dense-grad: %d.c"), std::string::npos) << text;
}

TEST(ConvStep, EveryFusionSetComputesTheUnfusedStep) {
  Graph ref = compile(Stage::Opt, {});
  ValueMap in = leaves(ref);
  Interpreter::Result want = Interpreter(ref).step(in);
  ASSERT_FALSE(want.updates.empty());
  std::vector<std::set<std::string>> sets = {parseFusionList("all"),
                                             parseFusionList("none")};
  for (const std::string &f : fusionNames())
    sets.push_back({f});
  for (const std::set<std::string> &s : sets) {
    std::string label;
    for (const std::string &f : s)
      label += f + " ";
    Interpreter::Result got = Interpreter(compile(Stage::Fused, s)).step(in);
    expectClose(want.outputs, got.outputs, "{" + label + "} outputs");
    expectClose(want.updates, got.updates, "{" + label + "} updates");
  }
}
