//===- ConvLowerTest.cpp - CNN layers and functions: lowering -------------===//
///
/// \file
/// What each CNN line of a .nn file lowers to: conv2d (params shaped and
/// drawn as nn.Conv2d's, the window, the activation after the conv),
/// batch_norm (params, buffers, the training form and the running
/// statistics' updates), the pooling functions, flatten, reshape and
/// global_avgpool; and that the fashion_cnn model checks with the
/// parameter count PyTorch gives it.
///
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include "passes/InferShapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace nn;
using namespace nn::test;

namespace {

std::string model(const std::string &body,
                  const std::string &input = "f32[3, 8, 8]") {
  return "input x : " + input + "\nlabel y : class(3)\n" + body +
         "loss cross_entropy(softmax(out), y)\n";
}

const Graph &graphOf(const Parsed &p) { return p.model->graph; }

std::vector<int64_t> win2(const int64_t (&v)[2]) { return {v[0], v[1]}; }

} // namespace

TEST(ConvLower, Conv2dMakesParamsConvAndActivation) {
  auto p = parseText(model("c1 = conv2d(x, 4, kernel = 3, padding = 1, relu)\n"
                           "out = dense(flatten(c1), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId w = nodeNamed(g, "c1.weight"), b = nodeNamed(g, "c1.bias");
  ASSERT_GE(w, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(g[w].op, OpKind::Param);
  EXPECT_EQ(g[w].type.str(), "f32[4,3,3,3]");
  EXPECT_TRUE(g[w].isWeight);
  EXPECT_FALSE(g[w].storedTransposed);
  EXPECT_FALSE(g[w].buffer);
  // nn.Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 3*3*3.
  double bound = 1 / std::sqrt(27.0);
  EXPECT_EQ(g[w].init.kind, InitKind::Uniform);
  EXPECT_DOUBLE_EQ(g[w].init.a, -bound);
  EXPECT_DOUBLE_EQ(g[w].init.b, bound);
  EXPECT_EQ(g[b].type.str(), "f32[4]");
  EXPECT_FALSE(g[b].isWeight);
  EXPECT_EQ(g[b].init.kind, InitKind::Uniform);
  EXPECT_DOUBLE_EQ(g[b].init.b, bound);

  NodeId c1 = nodeNamed(g, "c1");
  ASSERT_GE(c1, 0);
  EXPECT_EQ(g[c1].op, OpKind::Relu);
  EXPECT_EQ(g[c1].type.str(), "f32[N,4,8,8]");
  const Node &conv = g[g[c1].inputs[0]];
  EXPECT_EQ(conv.name, "c1.conv");
  EXPECT_EQ(conv.op, OpKind::Conv2d);
  EXPECT_EQ(conv.act, Activation::None);
  EXPECT_EQ(conv.inputs, (std::vector<NodeId>{nodeNamed(g, "x"), w, b}));
  EXPECT_EQ(win2(conv.win.kernel), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(win2(conv.win.stride), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(win2(conv.win.padding), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(win2(conv.win.dilation), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv.win.groups, 1);
  EXPECT_EQ(conv.type.str(), "f32[N,4,8,8]");
}

TEST(ConvLower, Conv2dWindowKeywords) {
  auto p = parseText(model("c = conv2d(x, 6, kernel = [3, 5], stride = [2, 1],"
                           " padding = [1, 2], dilation = 2, groups = 3,"
                           " bias = false)\n"
                           "out = dense(flatten(c), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId c = nodeNamed(g, "c");
  ASSERT_GE(c, 0);
  EXPECT_EQ(g[c].op, OpKind::Conv2d);
  EXPECT_EQ(g[c].inputs.size(), 2u); // no bias
  EXPECT_EQ(nodeNamed(g, "c.bias"), -1);
  EXPECT_EQ(g[nodeNamed(g, "c.weight")].type.str(), "f32[6,1,3,5]");
  EXPECT_DOUBLE_EQ(g[nodeNamed(g, "c.weight")].init.b, 1 / std::sqrt(15.0));
  EXPECT_EQ(win2(g[c].win.kernel), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(win2(g[c].win.stride), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(win2(g[c].win.padding), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(win2(g[c].win.dilation), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(g[c].win.groups, 3);
  // H: (8 + 2 - 2*2 - 1) / 2 + 1 = 3; W: (8 + 4 - 2*4 - 1) / 1 + 1 = 4.
  EXPECT_EQ(g[c].type.str(), "f32[N,6,3,4]");
}

TEST(ConvLower, Conv2dTakesEveryActivationAndLeakySlope) {
  auto p = parseText(model("c = conv2d(x, 2, kernel = 1, leaky_relu(0.2))\n"
                           "out = dense(flatten(c), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId c = nodeNamed(g, "c");
  EXPECT_EQ(g[c].op, OpKind::LeakyRelu);
  EXPECT_EQ(g[c].param, 0.2);
  for (Activation a : allActivations()) {
    auto q = parseText(model(std::string("c = conv2d(x, 2, kernel = 1, ") +
                             activationName(a) +
                             ")\nout = dense(flatten(c), 3)\n"));
    EXPECT_TRUE(q->model) << activationName(a) << ": " << q->diags.str();
  }
}

TEST(ConvLower, BatchNormMakesParamsBuffersAndUpdates) {
  auto p = parseText(model("c = conv2d(x, 4, kernel = 3)\n"
                           "b = batch_norm(c, momentum = 0.2, eps = 0.001)\n"
                           "out = dense(flatten(b), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  struct Want {
    const char *name, *type;
    InitKind init;
    double a;
    bool buffer;
  } wants[] = {
      {"b.weight", "f32[4]", InitKind::Constant, 1, false},
      {"b.bias", "f32[4]", InitKind::Zeros, 0, false},
      {"b.running_mean", "f32[4]", InitKind::Zeros, 0, true},
      {"b.running_var", "f32[4]", InitKind::Constant, 1, true},
      {"b.num_batches_tracked", "f32", InitKind::Zeros, 0, true},
  };
  for (const Want &w : wants) {
    NodeId id = nodeNamed(g, w.name);
    ASSERT_GE(id, 0) << w.name;
    EXPECT_EQ(g[id].op, OpKind::Param) << w.name;
    EXPECT_EQ(g[id].type.str(), w.type) << w.name;
    EXPECT_EQ(g[id].init.kind, w.init) << w.name;
    EXPECT_EQ(g[id].init.a, w.a) << w.name;
    EXPECT_EQ(g[id].buffer, w.buffer) << w.name;
    EXPECT_FALSE(g[id].isWeight) << w.name;
  }
  NodeId b = nodeNamed(g, "b");
  ASSERT_GE(b, 0);
  EXPECT_EQ(g[b].op, OpKind::ChannelAffine);
  EXPECT_EQ(g[b].type.str(), "f32[N,4,6,6]");
  EXPECT_EQ(g[b].inputs[1], nodeNamed(g, "b.weight"));
  EXPECT_EQ(g[b].inputs[2], nodeNamed(g, "b.bias"));
  const Node &norm = g[g[b].inputs[0]];
  EXPECT_EQ(norm.op, OpKind::BatchNormalize);
  EXPECT_EQ(norm.param, 0.001);
  NodeId c = nodeNamed(g, "c");
  EXPECT_EQ(norm.inputs, (std::vector<NodeId>{c, nodeNamed(g, "b.running_mean"),
                                              nodeNamed(g, "b.running_var")}));

  // Three updates: (1 - m) * old + m * stat(c), and the count + 1.
  ASSERT_EQ(g.updates.size(), 3u);
  auto constOf = [&](NodeId id) {
    EXPECT_EQ(g[id].op, OpKind::Const);
    return g[id].values.at(0);
  };
  struct Stat {
    const char *target;
    OpKind stat;
  } stats[] = {{"b.running_mean", OpKind::ChannelMean},
               {"b.running_var", OpKind::ChannelVar}};
  for (int i = 0; i < 2; ++i) {
    const Update &u = g.updates[i];
    EXPECT_EQ(u.target, nodeNamed(g, stats[i].target));
    const Node &sum = g[u.value];
    ASSERT_EQ(sum.op, OpKind::Add);
    EXPECT_EQ(sum.type.str(), "f32[4]");
    const Node &keep = g[sum.inputs[0]], &take = g[sum.inputs[1]];
    ASSERT_EQ(keep.op, OpKind::Mul);
    ASSERT_EQ(take.op, OpKind::Mul);
    EXPECT_DOUBLE_EQ(constOf(keep.inputs[0]), 0.8);
    EXPECT_EQ(keep.inputs[1], u.target);
    EXPECT_DOUBLE_EQ(constOf(take.inputs[0]), 0.2);
    const Node &s = g[take.inputs[1]];
    EXPECT_EQ(s.op, stats[i].stat);
    EXPECT_EQ(s.inputs, std::vector<NodeId>{c});
  }
  const Update &n = g.updates[2];
  EXPECT_EQ(n.target, nodeNamed(g, "b.num_batches_tracked"));
  ASSERT_EQ(g[n.value].op, OpKind::Add);
  EXPECT_EQ(g[n.value].inputs[0], n.target);
  EXPECT_EQ(constOf(g[n.value].inputs[1]), 1.0);
}

TEST(ConvLower, BatchNormDefaultsAndVectors) {
  auto p = parseText(model("h = dense(x, 5)\nb = batch_norm(h)\n"
                           "out = dense(b, 3)\n",
                           "f32[6]"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId b = nodeNamed(g, "b");
  EXPECT_EQ(g[b].type.str(), "f32[N,5]");
  EXPECT_EQ(g[g[b].inputs[0]].param, 1e-5);
  EXPECT_EQ(g[nodeNamed(g, "b.running_mean")].type.str(), "f32[5]");
  const Node &take = g[g[g.updates[0].value].inputs[1]];
  EXPECT_DOUBLE_EQ(g[take.inputs[0]].values[0], 0.1);
}

TEST(ConvLower, PoolingFunctions) {
  auto p = parseText(model("m = maxpool2d(x, 2)\n"
                           "a = avgpool2d(x, [3, 2], stride = 1, "
                           "padding = [1, 0])\n"
                           "out = dense(flatten(m) + sum(a), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId m = nodeNamed(g, "m"), a = nodeNamed(g, "a");
  EXPECT_EQ(g[m].op, OpKind::MaxPool2d);
  EXPECT_EQ(win2(g[m].win.kernel), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(win2(g[m].win.stride), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(win2(g[m].win.padding), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(g[m].type.str(), "f32[N,3,4,4]");
  EXPECT_EQ(g[a].op, OpKind::AvgPool2d);
  EXPECT_EQ(win2(g[a].win.kernel), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(win2(g[a].win.stride), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(win2(g[a].win.padding), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(g[a].type.str(), "f32[N,3,8,7]");
}

TEST(ConvLower, FlattenReshapeAndGlobalAvgPool) {
  auto p = parseText(model("r = reshape(x, [12, 4, 4])\n"
                      "f = flatten(r)\n"
                      "gp = global_avgpool(r)\n"
                      "o1 = dense(f, 3)\n"
                      "o2 = dense(gp, 3)\n"
                      "out = o1 + o2\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  NodeId r = nodeNamed(g, "r"), f = nodeNamed(g, "f"), gp = nodeNamed(g, "gp");
  EXPECT_EQ(g[r].op, OpKind::Reshape);
  EXPECT_EQ(g[r].shape, (std::vector<int64_t>{kBatch, 12, 4, 4}));
  EXPECT_EQ(g[r].type.str(), "f32[N,12,4,4]");
  EXPECT_EQ(g[f].op, OpKind::Reshape);
  EXPECT_EQ(g[f].shape, (std::vector<int64_t>{kBatch, 192}));
  EXPECT_EQ(g[f].inputs[0], r);
  EXPECT_EQ(g[gp].op, OpKind::Reshape);
  EXPECT_EQ(g[gp].type.str(), "f32[N,12]");
  const Node &pool = g[g[gp].inputs[0]];
  EXPECT_EQ(pool.op, OpKind::AvgPool2d);
  EXPECT_EQ(win2(pool.win.kernel), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(win2(pool.win.stride), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(pool.type.str(), "f32[N,12,1,1]");
  EXPECT_EQ(g[nodeNamed(g, "o1.weight")].type.str(), "f32[192,3]");
}

TEST(ConvLower, ResidualIsAPlainExpression) {
  auto p = parseText(model("h = conv2d(x, 3, kernel = 3, padding = 1)\n"
                           "r = relu(conv2d2 + h)\n"
                           "out = dense(flatten(r), 3)\n"));
  EXPECT_FALSE(p->model); // conv2d2 is undefined
  p = parseText(model("c = conv2d(x, 3, kernel = 3, padding = 1)\n"
                      "r = relu(c + x)\n"
                      "out = dense(flatten(r), 3)\n"));
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  EXPECT_EQ(g[nodeNamed(g, "r")].type.str(), "f32[N,3,8,8]");
}

// The model: its parameter count is PyTorch's for the same layers:
// conv 1*32*9+32, bn 2*32, conv 32*64*9+64, dense 3136*128+128, 128*10+10.
TEST(ConvLower, FashionCnnExampleLowersWithPyTorchsParamCount) {
  std::string text = readSource("examples/fashion_cnn.nn");
  ASSERT_FALSE(text.empty());
  auto p = parseText(text, "fashion_cnn.nn");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  int64_t params = 0, buffers = 0;
  for (NodeId id : g.leaves(OpKind::Param))
    (g[id].buffer ? buffers : params) += g[id].type.numel();
  EXPECT_EQ(params, 320 + 64 + 18496 + 401536 + 1290);
  EXPECT_EQ(buffers, 32 + 32 + 1);
  EXPECT_EQ(g[nodeNamed(g, "x")].type.str(), "f32[N,1,28,28]");
  EXPECT_EQ(g[nodeNamed(g, "g")].type.str(), "f32[N,3136]");
  DiagEngine diags;
  Graph typed = inferShapes(g, diags);
  EXPECT_FALSE(diags.hasErrors()) << diags.str();
  EXPECT_EQ(typed[nodeNamed(typed, "out")].type.str(), "f32[N,10]");
}

// The deep pair has the same layers, 21 convolutions each; only the skips
// differ. conv_tiny is the 4x4 image of the scalar view.
TEST(ConvLower, DeepExamplesAndConvTinyLower) {
  auto count = [](const Graph &g, OpKind op) {
    int n = 0;
    for (const Node &node : g.nodes)
      n += node.op == op;
    return n;
  };
  std::map<std::string, int> adds;
  for (const char *name : {"resnet_small", "plain_deep"}) {
    std::string path = std::string("examples/") + name + ".nn";
    auto p = parseText(readSource(path), path);
    ASSERT_TRUE(p->model) << name << ": " << p->diags.str();
    const Graph &g = graphOf(*p);
    EXPECT_EQ(count(g, OpKind::Conv2d), 21) << name;
    EXPECT_EQ(count(g, OpKind::BatchNormalize), 21) << name;
    EXPECT_EQ(g.updates.size(), 63u) << name;
    EXPECT_EQ(g[*g.output("pred")].type.str(), "f32[N,10]") << name;
    for (int k = 1; k <= 20; ++k) // bias = false before each batch_norm
      EXPECT_FALSE(g.findLeaf(OpKind::Param, "c" + std::to_string(k) +
                                                 ".bias"))
          << name << " c" << k;
    adds[name] = count(g, OpKind::Add);
  }
  EXPECT_EQ(adds["resnet_small"], adds["plain_deep"] + 10); // the skips
  auto p = parseText(readSource("examples/conv_tiny.nn"), "conv_tiny.nn");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = graphOf(*p);
  EXPECT_EQ(g[nodeNamed(g, "x")].type.str(), "f32[N,1,4,4]");
  EXPECT_EQ(g[nodeNamed(g, "c.weight")].type.str(), "f32[1,1,2,2]");
  EXPECT_EQ(g[nodeNamed(g, "p")].type.str(), "f32[N,1,2,2]");
}
