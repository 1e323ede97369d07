//===- SpatialGraphTest.cpp - nnc graph and kernel names of conv ops ------===//
///
/// \file
/// `nnc graph` labels a convolution and a pooling with their window (and
/// the activation fusion folded in), and the kernel names that `nnc
/// explain` and the graph clusters show carry a fused conv's activation;
/// on a hand-built graph in the form fusion leaves it.
///
//===----------------------------------------------------------------------===//

#include "passes/Builder.h"
#include "tools/KernelMap.h"
#include "tools/teach/Graphviz.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

Window window(int64_t k, int64_t s, int64_t pad) {
  Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  w.padding[0] = w.padding[1] = pad;
  return w;
}

/// x -> c1 = conv2d(x, w, b) {act relu} -> p1 = maxpool2d(c1), output p1.
struct Fused {
  Graph g;
  NodeId c1, p1;
  Fused() {
    Builder b(g);
    auto leaf = [&](OpKind op, const char *name, std::vector<int64_t> d) {
      Node n = makeNode(op, {});
      n.name = name;
      n.type = TensorType::of(std::move(d));
      return g.add(std::move(n));
    };
    NodeId x = leaf(OpKind::Input, "x", {kBatch, 1, 4, 4});
    NodeId w = leaf(OpKind::Param, "c1.weight", {1, 1, 2, 2});
    NodeId bias = leaf(OpKind::Param, "c1.bias", {1});
    Node c = makeNode(OpKind::Conv2d, {x, w, bias});
    c.name = "c1";
    c.win = window(2, 1, 0);
    c.act = Activation::Relu;
    c1 = b.typed(c);
    Node p = makeNode(OpKind::MaxPool2d, {c1});
    p.name = "p1";
    p.win = window(2, 2, 0);
    p1 = b.typed(p);
    g.outputs.push_back({"pred", p1});
  }
};

TEST(SpatialGraph, LabelsShowTheWindow) {
  Fused f;
  std::string dot = graphToDot(f.g, {});
  EXPECT_NE(dot.find("n" + std::to_string(f.c1) +
                     " [label=\"c1 = conv2d\\nkernel 2x2, stride 1, padding "
                     "0, act relu\\nf32[N,1,3,3]\""),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("n" + std::to_string(f.p1) +
                     " [label=\"p1 = maxpool2d\\nkernel 2x2, stride 2, "
                     "padding 0\\nf32[N,1,1,1]\""),
            std::string::npos)
      << dot;
}

TEST(SpatialGraph, KernelNamesCarryTheFoldedActivation) {
  Fused f;
  FusionLog log;
  KernelMap k(f.g, log);
  EXPECT_EQ(k.kernelLabel(f.c1), "%c1 = conv2d {act = relu}");
  EXPECT_EQ(k.kernelLabel(f.p1), "%p1 = maxpool2d");
  EXPECT_EQ(k.kernels(f.c1),
            std::vector<std::string>{"%c1 = conv2d {act = relu}"});
}

} // namespace
