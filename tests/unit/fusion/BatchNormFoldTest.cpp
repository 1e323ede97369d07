//===- BatchNormFoldTest.cpp - Batch norm folded into the convolution -----===//
///
/// \file
/// Batch norm in evaluation form (one channel_affine(y, s, t) after
/// passes/MergeAffines.cpp) folded into the conv2d it reads by the conv
/// fusion (passes/FuseConv.cpp, sweeps 3a and 3b; ir/ConvAffine.h), on
/// hand-built layers in both orders the examples have: conv -> batch norm
/// -> relu (the affine before the activation, resnet_small.nn) and conv +
/// relu -> batch norm (after it, fashion_cnn.nn), with and without a bias,
/// with groups. Checked: the graph after (one conv2d carrying s and t, its
/// act and `affine`), the log, the IR text round trip, the shape rule, and
/// that the folded graph computes what the unfused one does on the
/// interpreter (to 1e-12) on random data. Then the candidates left alone
/// with their reason; the merge of two affines; and whole models:
/// fashion_cnn and resnet_small in evaluation form, fused against unfused
/// on the interpreter, and their training graphs untouched.
///
//===----------------------------------------------------------------------===//

#include "LeafValues.h"
#include "../passes/TestGraphs.h"

#include "frontend/Frontend.h"
#include "ir/ConvAffine.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "ir/Verifier.h"
#include "passes/Builder.h"
#include "passes/DCE.h"
#include "passes/EvalForm.h"
#include "passes/FlopCount.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "passes/MergeAffines.h"
#include "passes/Pipeline.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace nn;
using namespace nn::test;

namespace {

/// Where the batch norm goes: before the activation (conv -> bn -> relu)
/// or after it (conv + relu -> bn).
enum class Order { Before, After };

/// x [N,4,5,5] -> conv2d (6 channels, 3 x 3, padding 1, `groups`, bias
/// when `bias`) and relu, with channel_affine(., s, t) before or after the
/// relu; output "y", the last node, named "y".
Graph layer(Order order, bool bias, int64_t groups) {
  Graph g;
  g.name = "bn";
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 4, 5, 5}));
  NodeId w = param(g, "c.weight", {6, 4 / groups, 3, 3}, true);
  std::vector<NodeId> ins = {x, w};
  if (bias)
    ins.push_back(param(g, "c.bias", {6}, false));
  NodeId s = param(g, "bn.scale", {6}, false);
  NodeId t = param(g, "bn.shift", {6}, false);
  Builder b(g);
  b.loc = at(3, 5, 20);
  Node conv = makeNode(OpKind::Conv2d, ins);
  conv.win.kernel[0] = conv.win.kernel[1] = 3;
  conv.win.padding[0] = conv.win.padding[1] = 1;
  conv.win.groups = groups;
  conv.name = "c";
  NodeId z = b.typed(conv);
  NodeId y = order == Order::Before
                 ? b.unary(OpKind::Relu,
                           b.op(OpKind::ChannelAffine, {z, s, t}, "bn"), "y")
                 : b.op(OpKind::ChannelAffine,
                        {b.unary(OpKind::Relu, z, "r"), s, t}, "y");
  g.outputs.push_back({"y", y});
  return g;
}

/// Random leaves (uniform in [-1, 1)) for every leaf of `g`, batch 2.
ValueMap randomLeaves(const Graph &g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  return test::leafValues(g, 2, [&](const Node &n, int64_t) {
    double x = n.op == OpKind::Label
                   ? std::floor((u(rng) + 1) / 2 *
                                static_cast<double>(n.classes))
                   : u(rng);
    return n.name.ends_with("running_var") ? std::fabs(x) + 0.1 : x;
  });
}

std::string logText(const FusionLog &log) {
  std::string s;
  for (const FusionLog::Entry &e : log.entries)
    s += e.fusion + (e.fused ? " fused: " : " kept: ") + e.text + "\n";
  return s;
}

std::vector<const Node *> nodesOf(const Graph &g, OpKind k) {
  std::vector<const Node *> r;
  for (const Node &n : g.nodes)
    if (n.op == k)
      r.push_back(&n);
  return r;
}

/// fuseConv, DCE, and the verifier.
Graph fuseChecked(const Graph &g, FusionLog &log) {
  Graph out = dce(fuseConv(g, log));
  std::vector<std::string> errs = verifyGraph(out);
  EXPECT_TRUE(errs.empty()) << (errs.empty() ? "" : errs[0]);
  return out;
}

} // namespace

TEST(BatchNormFold, FoldsIntoTheConvolutionInBothOrders) {
  for (Order order : {Order::Before, Order::After})
    for (bool bias : {true, false})
      for (int64_t groups : {1, 2}) {
        SCOPED_TRACE(std::string(order == Order::Before ? "before" : "after") +
                     (bias ? ", bias" : ", no bias") + ", groups " +
                     std::to_string(groups));
        Graph g = layer(order, bias, groups);
        FusionLog log;
        Graph out = fuseChecked(g, log);
        // One node left besides the leaves: the conv2d, in the output's
        // node, with s and t last and the relu in it.
        ASSERT_EQ(nodesOf(out, OpKind::Conv2d).size(), 1u);
        EXPECT_TRUE(nodesOf(out, OpKind::ChannelAffine).empty());
        EXPECT_TRUE(nodesOf(out, OpKind::Relu).empty());
        const Node &c = *nodesOf(out, OpKind::Conv2d)[0];
        EXPECT_EQ(c.name, "y");
        EXPECT_EQ(c.act, Activation::Relu);
        EXPECT_EQ(c.win.groups, groups);
        EXPECT_EQ(affineAfterAct(c), order == Order::After);
        ConvOperands ops = convOperands(c);
        ASSERT_TRUE(ops.hasAffine());
        EXPECT_EQ(ops.bias >= 0, bias);
        EXPECT_EQ(out[c.inputs[static_cast<size_t>(ops.scale)]].name,
                  "bn.scale");
        EXPECT_EQ(out[c.inputs[static_cast<size_t>(ops.shift)]].name,
                  "bn.shift");
        EXPECT_NE(logText(log).find(
                      order == Order::Before
                          ? "(batch_norm, eval) -> %bn = conv2d {affine = "
                            "before}"
                          : "(batch_norm, eval) -> %y = conv2d {act = relu, "
                            "affine = after}"),
                  std::string::npos)
            << logText(log);
        for (uint64_t seed : {1, 2, 3})
          expectSameOutputs(g, out, randomLeaves(g, seed), 1e-12);
        // The same FLOPs (products, bias, 2 per output for the scale and
        // shift, 1 for the relu), all in the folded conv2d, the last node.
        EXPECT_EQ(nodeFlops(out, out.size() - 1, 3), graphFlops(g, 3));
      }
}

TEST(BatchNormFold, RoundTripsThroughTheIRText) {
  for (Order order : {Order::Before, Order::After}) {
    FusionLog log;
    Graph out = fuseChecked(layer(order, true, 1), log);
    std::string text = printGraph(out);
    EXPECT_NE(text.find(order == Order::Before ? "affine = before"
                                               : "affine = after"),
              std::string::npos)
        << text;
    DiagEngine diags;
    diags.addSource("bn.nnir", text);
    Graph back = inferShapes(parseGraph("bn.nnir", text, diags), diags);
    ASSERT_FALSE(diags.hasErrors()) << diags.str();
    EXPECT_EQ(printGraph(back), text);
    EXPECT_EQ(affineAfterAct(*nodesOf(back, OpKind::Conv2d)[0]),
              order == Order::After);
  }
}

TEST(BatchNormFold, ShapeRuleChecksTheScaleAndShift) {
  FusionLog log;
  Graph out = fuseChecked(layer(Order::Before, true, 1), log);
  // A scale of 5 channels for a convolution of 6.
  for (Node &n : out.nodes)
    if (n.name == "bn.scale")
      n.type = TensorType::of({5});
  DiagEngine diags;
  try {
    inferShapes(out, diags);
  } catch (const DiagnosedError &) {
  }
  EXPECT_TRUE(diags.hasErrors());
  EXPECT_NE(diags.str().find("a vector of its 6 channels"), std::string::npos)
      << diags.str();
}

TEST(BatchNormFold, LeavesASharedConvolutionAndSaysWhy) {
  Graph g = layer(Order::Before, true, 1);
  for (NodeId id = 0; id < g.size(); ++id)
    if (g[id].name == "c")
      g.outputs.push_back({"z", id});
  FusionLog log;
  Graph out = fuseChecked(g, log);
  EXPECT_EQ(nodesOf(out, OpKind::ChannelAffine).size(), 1u);
  EXPECT_NE(logText(log).find("kept: %c (conv2d) + %bn (batch_norm, eval): "
                              "not folded: the convolution's output has 2 "
                              "uses"),
            std::string::npos)
      << logText(log);
  expectSameOutputs(g, out, randomLeaves(g, 4), 1e-12);
}

TEST(BatchNormFold, LeavesAnAffineWithoutShift) {
  Graph g = layer(Order::Before, false, 1);
  for (Node &n : g.nodes)
    if (n.op == OpKind::ChannelAffine)
      n.inputs.pop_back();
  FusionLog log;
  Graph out = fuseChecked(g, log);
  EXPECT_EQ(nodesOf(out, OpKind::ChannelAffine).size(), 1u);
  EXPECT_NE(logText(log).find("not folded: the affine has no shift"),
            std::string::npos)
      << logText(log);
}

TEST(BatchNormFold, TwoAffinesMergeIntoOne) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3, 2, 2}));
  NodeId s = param(g, "s", {3}, false), t = param(g, "t", {3}, false);
  NodeId w = param(g, "b1.weight", {3}, false);
  NodeId b = param(g, "b1.bias", {3}, false);
  Builder bld(g);
  NodeId inner = bld.op(OpKind::ChannelAffine, {x, s, t}, "b1.norm");
  NodeId outer = bld.op(OpKind::ChannelAffine, {inner, w, b}, "b1");
  g.outputs.push_back({"y", outer});
  Graph m = mergeChannelAffines(g);
  std::vector<const Node *> affines = nodesOf(m, OpKind::ChannelAffine);
  ASSERT_EQ(affines.size(), 1u);
  EXPECT_EQ(affines[0]->name, "b1");
  EXPECT_EQ(m[affines[0]->inputs[0]].name, "x");
  EXPECT_EQ(m[affines[0]->inputs[1]].name, "b1.scale");
  EXPECT_EQ(m[affines[0]->inputs[2]].name, "b1.shift");
  EXPECT_TRUE(m.findLeaf(OpKind::Param, "b1.bias")); // not renamed
  expectSameOutputs(g, m, randomLeaves(g, 5), 1e-12);
  // The inner affine also an output: both stay.
  g.outputs.push_back({"normed", inner});
  EXPECT_EQ(nodesOf(mergeChannelAffines(g), OpKind::ChannelAffine).size(),
            2u);
}

namespace {

std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// examples/<file> through the pipeline to `stage` (all fusions).
Graph example(const std::string &file, Stage stage) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + file;
  std::string text = readText(path);
  DiagEngine diags;
  diags.addSource(path, text);
  std::optional<Model> m = parseModel(path, text, diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  return runPipeline(m->graph, m->recipe, stage, PipelineOptions{}, diags);
}

int foldedConvs(const Graph &g, bool after) {
  int n = 0;
  for (const Node *c : nodesOf(g, OpKind::Conv2d))
    n += convOperands(*c).hasAffine() && affineAfterAct(*c) == after;
  return n;
}

} // namespace

TEST(BatchNormFold, ExamplesEvaluateTheSameFolded) {
  // fashion_cnn: conv + relu -> batch_norm (after); resnet_small: every
  // conv -> batch_norm (-> relu): before.
  struct Want {
    const char *file;
    int before, after;
  };
  for (Want w : {Want{"fashion_cnn.nn", 0, 1}, Want{"resnet_small.nn", 21, 0}}) {
    SCOPED_TRACE(w.file);
    Graph eval = evalForm(example(w.file, Stage::Forward));
    FusionLog log;
    Graph fused =
        fuse(eval, {fusionNames().begin(), fusionNames().end()}, log);
    EXPECT_TRUE(verifyGraph(fused).empty());
    EXPECT_EQ(foldedConvs(fused, false), w.before) << log.str();
    EXPECT_EQ(foldedConvs(fused, true), w.after) << log.str();
    EXPECT_TRUE(nodesOf(fused, OpKind::ChannelAffine).empty()) << log.str();
    ValueMap leaves = randomLeaves(eval, 6);
    expectSameOutputs(eval, fused, leaves, 1e-9);
    // Training is untouched: batch norm on batch statistics, no folds.
    Graph train = example(w.file, Stage::Fused);
    EXPECT_EQ(foldedConvs(train, false) + foldedConvs(train, true), 0);
    EXPECT_FALSE(nodesOf(train, OpKind::BatchNormalize).empty());
  }
}
