//===- BatchNormFoldCpuTest.cpp - Folded batch norm on the CPU backend ----===//
///
/// \file
/// conv2d with batch norm folded in (ir/ConvAffine.h: a per-channel scale
/// and shift in the GEMM's epilogue, before or after the activation),
/// compiled by the CPU backend against the interpreter (1e-4 relative, as
/// every convolution of SpatialTest): both orders, with and without a
/// bias, groups, stride 2, a channel count that is not a multiple of the
/// vector width, and sizes that take both the vector and the scalar
/// epilogue; then the evaluation graphs of fashion_cnn and resnet_small,
/// fused (every batch norm folded), against the interpreter.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "ir/ConvAffine.h"
#include "passes/Builder.h"
#include "passes/DCE.h"
#include "passes/EvalForm.h"
#include "passes/Fuse.h"

using namespace nn;
using namespace nn::test;

namespace {

constexpr double kConvRtol = 1e-4;

struct Shape {
  int64_t out, groups, stride, size;
};

/// x [N,4,size,size] -> conv2d (3 x 3, padding 1) -> relu, batch norm's
/// channel_affine(., s, t) before (`after` false) or after the relu; then
/// the conv fusion, which folds it.
Graph foldedLayer(bool after, bool bias, Shape sh) {
  Graph g;
  g.name = "bn";
  auto leaf = [&](OpKind k, const std::string &name,
                  std::vector<int64_t> dims) {
    Node n = makeNode(k, {});
    n.name = name;
    n.type = TensorType::of(std::move(dims));
    return g.add(std::move(n));
  };
  NodeId x = leaf(OpKind::Input, "x", {kBatch, 4, sh.size, sh.size});
  std::vector<NodeId> ins = {
      x, leaf(OpKind::Param, "c.weight", {sh.out, 4 / sh.groups, 3, 3})};
  if (bias)
    ins.push_back(leaf(OpKind::Param, "c.bias", {sh.out}));
  NodeId s = leaf(OpKind::Param, "bn.scale", {sh.out});
  NodeId t = leaf(OpKind::Param, "bn.shift", {sh.out});
  Builder b(g);
  Node conv = makeNode(OpKind::Conv2d, ins);
  conv.win.kernel[0] = conv.win.kernel[1] = 3;
  conv.win.padding[0] = conv.win.padding[1] = 1;
  conv.win.stride[0] = conv.win.stride[1] = sh.stride;
  conv.win.groups = sh.groups;
  NodeId z = b.typed(conv);
  NodeId y = after ? b.op(OpKind::ChannelAffine,
                          {b.unary(OpKind::Relu, z), s, t})
                   : b.unary(OpKind::Relu,
                             b.op(OpKind::ChannelAffine, {z, s, t}));
  g.outputs.push_back({"y", y});
  FusionLog log;
  return dce(fuseConv(g, log));
}

/// Random leaves with positive running variances.
ValueMap evalLeaves(const Graph &g, int64_t batch, uint64_t seed) {
  ValueMap l = randomLeaves(g, batch, seed);
  for (auto &[name, v] : l)
    if (name.ends_with("running_var"))
      for (double &d : v.data)
        d = std::fabs(d) + 0.05;
  return l;
}

} // namespace

TEST(BatchNormFoldCpu, FoldedConvolutionsMatchTheInterpreter) {
  const Shape shapes[] = {{6, 1, 1, 9}, {5, 1, 2, 7}, {6, 2, 1, 5},
                          {16, 1, 1, 12}};
  for (bool after : {false, true})
    for (size_t i = 0; i < 4; ++i) {
      // Each order with and without a bias, in turn over the shapes.
      const bool bias = (i + (after ? 1 : 0)) % 2 == 0;
      const Shape sh = shapes[i];
      std::string what = std::string(after ? "after" : "before") +
                         (bias ? ", bias" : "") + ", out " +
                         std::to_string(sh.out) + ", groups " +
                         std::to_string(sh.groups) + ", stride " +
                         std::to_string(sh.stride) + ", size " +
                         std::to_string(sh.size);
      Graph g = foldedLayer(after, bias, sh);
      ASSERT_EQ(g.nodes.back().op, OpKind::Conv2d) << what;
      ASSERT_TRUE(convOperands(g.nodes.back()).hasAffine()) << what;
      ASSERT_EQ(affineAfterAct(g.nodes.back()), after) << what;
      checkAgainstInterpreter(g, randomLeaves(g, 3, 17), 3, 4, kConvRtol,
                              what);
    }
}

TEST(BatchNormFoldCpu, EvaluationGraphsOfTheExamplesMatchTheInterpreter) {
  for (const char *file : {"fashion_cnn.nn", "resnet_small.nn"}) {
    Graph eval = evalForm(loadExample(file, Stage::Forward).graph);
    FusionLog log;
    Graph fused =
        fuse(eval, {fusionNames().begin(), fusionNames().end()}, log);
    int folded = 0;
    for (const Node &n : fused.nodes)
      folded += n.op == OpKind::Conv2d && convOperands(n).hasAffine();
    EXPECT_GT(folded, 0) << file;
    checkAgainstInterpreter(fused, evalLeaves(fused, 2, 23), 2, 2, kConvRtol,
                            file);
  }
}

#endif // NNC_HAVE_CPU_BACKEND
