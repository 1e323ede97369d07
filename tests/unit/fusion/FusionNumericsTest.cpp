//===- FusionNumericsTest.cpp - Fused graphs compute what unfused ones do --===//
///
/// \file
/// Every example, a golden IR graph and two extra models (sigmoid hidden
/// layers with mse; plain SGD) through the pipeline to Stage::Opt and to
/// Stage::Fused with all fusions and with each fusion alone; one training
/// step of each on the reference interpreter (double) from the same random
/// leaves. Outputs and updates must agree to 1e-12 relative: fusion only
/// moves operations into fewer ops (and reads transposes in place), it does
/// not change what is computed; where it reassociates nothing the results
/// are in fact bitwise equal, the tolerance only covers libm calls made in a
/// different order of evaluation.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "ir/IRParser.h"
#include "ir/Support.h"
#include "passes/Fuse.h"
#include "passes/Pipeline.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

using namespace nn;

namespace {

std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Model parse(const std::string &path, const std::string &text) {
  DiagEngine diags;
  diags.addSource(path, text);
  std::optional<Model> m = parseModel(path, text, diags);
  if (!m)
    ADD_FAILURE() << diags.str();
  return m ? *m : Model{};
}

Model example(const std::string &name) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + name;
  return parse(path, readText(path));
}

/// A model with sigmoid and tanh hidden layers and an mse loss (the
/// examples use relu and tanh only), trained with momentum and L2.
const char *kSigmoidMse = R"(model sig
input x : f32[3]
label y : real
h1 = dense(x, 5, sigmoid)
h2 = dense(h1, 4, tanh)
out = dense(h2, 1)
loss mse(out, y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.1, momentum = 0.5) batch 4 epochs 1 l2 0.01 }
)";

/// Relu layers, cross-entropy over 3 classes, plain SGD (no momentum).
const char *kReluPlainSgd = R"(model plain
input x : f32[4]
label y : class(3)
h = dense(x, 6, relu)
out = dense(h, 3)
loss cross_entropy(softmax(out), y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.2) batch 4 epochs 1 }
)";

Graph compile(const Model &m, Stage stop, const std::set<std::string> &f,
              FusionLog *log = nullptr) {
  PipelineOptions opts;
  opts.fusions = f;
  opts.fusionLog = log;
  DiagEngine diags;
  return runPipeline(m.graph, m.recipe, stop, opts, diags);
}

/// Random values for every Input, Label, Param and State leaf.
ValueMap randomLeaves(const Graph &g, int64_t batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  ValueMap l;
  for (const Node &n : g.nodes) {
    if (!hasTrait(n.op, kLeaf) || n.op == OpKind::Const)
      continue;
    Value v;
    for (int64_t d : n.type.dims)
      v.shape.push_back(d == kBatch ? batch : d);
    int64_t k = 1;
    for (int64_t d : v.shape)
      k *= d;
    for (int64_t i = 0; i < k; ++i) {
      double x = u(rng);
      if (n.op == OpKind::Param || n.op == OpKind::State)
        x = (x - 0.5) * 0.6;
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
        x = std::floor(x * static_cast<double>(n.classes));
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
        x = x < 0.5 ? 0 : 1;
      v.data.push_back(x);
    }
    l[n.name] = v;
  }
  return l;
}

void expectClose(const ValueMap &want, const ValueMap &got,
                 const std::string &what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (const auto &[name, w] : want) {
    auto it = got.find(name);
    ASSERT_TRUE(it != got.end()) << what << ": " << name << " missing";
    const Value &v = it->second;
    ASSERT_EQ(w.shape, v.shape) << what << ": " << name;
    for (int64_t i = 0; i < w.numel(); ++i) {
      double a = w.data[i], b = v.data[i];
      EXPECT_LE(std::fabs(a - b), 1e-12 * std::max(1.0, std::fabs(a)))
          << what << ": " << name << "[" << i << "] " << a << " vs " << b;
    }
  }
}

int countOp(const Graph &g, OpKind k) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k;
  return n;
}

struct Case {
  std::string name;
  Model model;
  int64_t batch;
};

/// examples/fashion_cnn.nn trained with SGD and momentum instead of its
/// Adam (randomLeaves gives Adam's second moments negative values, whose
/// square roots are NaN).
Model fashionCnnSgd() {
  Model m = example("fashion_cnn.nn");
  m.recipe.optimizer = OptimizerSpec{};
  m.recipe.optimizer.lr = 0.05;
  m.recipe.optimizer.momentum = 0.9;
  return m;
}

std::vector<Case> cases() {
  return {{"churn", example("churn.nn"), 5},
          {"xor", example("xor.nn"), 4},
          {"xor_neuron", example("xor_neuron.nn"), 4},
          {"mnist_mlp", example("mnist_mlp.nn"), 3},
          {"sigmoid-mse", parse("sig.nn", kSigmoidMse), 4},
          {"relu-plain-sgd", parse("plain.nn", kReluPlainSgd), 4},
          {"fashion_cnn", fashionCnnSgd(), 2}};
}

void checkAllFusionSets(const Case &c) {
  SCOPED_TRACE(c.name);
  Graph ref = compile(c.model, Stage::Opt, {});
  ValueMap leaves = randomLeaves(ref, c.batch, 7);
  Interpreter::Result want = Interpreter(ref).step(leaves);
  EXPECT_FALSE(want.updates.empty());
  EXPECT_FALSE(want.outputs.empty());
  std::vector<std::set<std::string>> sets = {
      parseFusionList("all"), parseFusionList("none")};
  for (const std::string &f : fusionNames())
    sets.push_back({f});
  for (const std::set<std::string> &s : sets) {
    std::string label;
    for (const std::string &f : s)
      label += f + " ";
    Graph fused = compile(c.model, Stage::Fused, s);
    Interpreter::Result got = Interpreter(fused).step(leaves);
    expectClose(want.outputs, got.outputs, c.name + " {" + label + "} outputs");
    expectClose(want.updates, got.updates, c.name + " {" + label + "} updates");
  }
}

} // namespace

TEST(FusionNumerics, EveryExampleEveryFusionSet) {
  for (const Case &c : cases())
    checkAllFusionSets(c);
}

TEST(FusionNumerics, GoldenIRGraph) {
  // The golden round-trip graph (a neuron with bce on probabilities),
  // trained with the default recipe.
  std::string path =
      std::string(NNC_SOURCE_DIR) + "/tests/golden/ir/roundtrip.nnir";
  DiagEngine d;
  Model m;
  m.graph = parseGraph(path, readText(path), d);
  Case c{"roundtrip.nnir", m, 6};
  checkAllFusionSets(c);
}

TEST(FusionNumerics, EachFusionFiresWhereExpected) {
  Model mnist = example("mnist_mlp.nn");
  Graph all = compile(mnist, Stage::Fused, parseFusionList("all"));
  EXPECT_EQ(countOp(all, OpKind::Dense), 3);
  EXPECT_EQ(countOp(all, OpKind::MatMul), 0);
  EXPECT_EQ(countOp(all, OpKind::Transpose), 0);
  EXPECT_EQ(countOp(all, OpKind::DenseGradWeight), 2);
  EXPECT_EQ(countOp(all, OpKind::DenseGradInput), 1);
  EXPECT_EQ(countOp(all, OpKind::DenseGradBias), 2);
  EXPECT_EQ(countOp(all, OpKind::FusedMatMul), 2); // fc3: no activation
  EXPECT_EQ(countOp(all, OpKind::Step), 0);
  EXPECT_EQ(countOp(all, OpKind::SoftmaxXentGrad), 1);
  EXPECT_EQ(countOp(all, OpKind::OneHot), 0);
  EXPECT_EQ(countOp(all, OpKind::Sgd), 6);
  EXPECT_EQ(countOp(all, OpKind::SgdMomentum), 6);
  EXPECT_EQ(countOp(all, OpKind::Elementwise), 4); // 3 L2 gradients, loss
  EXPECT_EQ(countOp(all, OpKind::Softmax), 1);     // kept for `pred`

  // dense alone: without dense-grad, step(fc1.add) still reads the
  // pre-activation, so the relu stays out of the first two layers; the
  // weight-gradient matmuls fuse with the add of their L2 term instead
  // (x^T @ dz + 2 lambda w: a full-shape "bias").
  Graph dense = compile(mnist, Stage::Fused, {"dense"});
  EXPECT_EQ(countOp(dense, OpKind::Dense), 6);
  EXPECT_EQ(countOp(dense, OpKind::Relu), 2);
  for (const Node &n : dense.nodes)
    EXPECT_TRUE(n.op != OpKind::Dense || n.act == Activation::None);

  Model xor_ = example("xor.nn");
  Graph x = compile(xor_, Stage::Fused, parseFusionList("all"));
  EXPECT_EQ(countOp(x, OpKind::SigmoidBceGrad), 1);
  EXPECT_EQ(countOp(x, OpKind::Tanh), 0);
  bool tanhDense = false;
  for (const Node &n : x.nodes)
    tanhDense = tanhDense || (n.op == OpKind::Dense &&
                              n.act == Activation::Tanh);
  EXPECT_TRUE(tanhDense);

  Model sig = parse("sig.nn", kSigmoidMse);
  Graph s = compile(sig, Stage::Fused, {"dense-grad"});
  auto count = [&](OpKind k, Activation a) {
    int n = 0;
    for (const Node &node : s.nodes)
      n += node.op == k && node.act == a;
    return n;
  };
  // h1 (sigmoid, the first layer): weight and bias gradients, no input
  // gradient; h2 (tanh): all three.
  EXPECT_EQ(count(OpKind::DenseGradWeight, Activation::Sigmoid), 1);
  EXPECT_EQ(count(OpKind::DenseGradBias, Activation::Sigmoid), 1);
  EXPECT_EQ(count(OpKind::DenseGradInput, Activation::Sigmoid), 0);
  EXPECT_EQ(count(OpKind::DenseGradWeight, Activation::Tanh), 1);
  EXPECT_EQ(count(OpKind::DenseGradBias, Activation::Tanh), 1);
  EXPECT_EQ(count(OpKind::DenseGradInput, Activation::Tanh), 1);
}

TEST(FusionNumerics, NoneChangesNothing) {
  Model mnist = example("mnist_mlp.nn");
  FusionLog log;
  Graph opt = compile(mnist, Stage::Opt, {});
  Graph none = compile(mnist, Stage::Fused, {}, &log);
  EXPECT_EQ(opt.size(), none.size());
  EXPECT_TRUE(log.entries.empty());
}

// examples/fashion_cnn.nn: both convolutions carry their relu forward and
// in every gradient (c1 reads the input x: no input gradient), so no relu
// and no step mask is left; batch norm's own sums stay plain.
TEST(FusionNumerics, FashionCnnFusesBothConvolutions) {
  FusionLog log;
  Graph g = compile(example("fashion_cnn.nn"), Stage::Fused,
                    parseFusionList("all"), &log);
  auto count = [&](OpKind k, Activation act) {
    int n = 0;
    for (const Node &node : g.nodes)
      n += node.op == k && node.act == act;
    return n;
  };
  EXPECT_EQ(count(OpKind::Conv2d, Activation::Relu), 2);
  EXPECT_EQ(count(OpKind::Conv2dGradInput, Activation::Relu), 1);
  EXPECT_EQ(count(OpKind::Conv2dGradWeight, Activation::Relu), 2);
  EXPECT_EQ(count(OpKind::ChannelSum, Activation::Relu), 2);
  EXPECT_EQ(count(OpKind::ChannelSum, Activation::None), 2); // b1's
  EXPECT_EQ(countOp(g, OpKind::Relu), 0);
  EXPECT_EQ(countOp(g, OpKind::Step), 0);
  std::string text = log.str();
  for (const char *line :
       {"conv: %d.c2.conv = %d.c2 * relu'(%c2): folded into input gradient "
        "%d.p1, weight gradient %d.c2.weight, bias gradient %d.c2.bias\n",
        "conv: %d.c1.conv = %d.c1 * relu'(%c1): folded into weight gradient "
        "%d.c1.weight, bias gradient %d.c1.bias\n",
        "conv: %c1.conv + %c1 -> %c1 = conv2d {act = relu}\n",
        "conv: %c2.conv + %c2 -> %c2 = conv2d {act = relu}\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  EXPECT_EQ(text.find("conv: [kept]"), std::string::npos) << text;
}
