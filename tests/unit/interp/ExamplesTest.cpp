//===- ExamplesTest.cpp - The interpreter on the example models -----------===//
///
/// \file
/// examples/*.nn through the frontend and shape inference, then run by
/// the interpreter (the lecture's churn numbers) and gradient-checked as
/// whole models, with and without L2 (losses as written: bce(sigmoid(z))
/// and cross_entropy(softmax(z)) unrewritten).
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "frontend/Frontend.h"
#include "ir/Support.h"
#include "passes/AddL2.h"
#include "passes/Autodiff.h"
#include "passes/InferShapes.h"
#include "passes/Pipeline.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace nn;
using namespace nn::test;

namespace {

/// The forward graph of an example, shapes inferred (losses as written);
/// with `stage`, the graph after the pipeline up to that stage.
Model loadExample(const std::string &name,
                  std::optional<Stage> stage = std::nullopt) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + name;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  DiagEngine diags;
  diags.addSource(path, ss.str());
  std::optional<Model> m = parseModel(path, ss.str(), diags);
  if (!m)
    ADD_FAILURE() << diags.str();
  if (!m)
    return {};
  m->graph = stage ? runPipeline(m->graph, m->recipe, *stage, {}, diags)
                   : inferShapes(m->graph, diags);
  return *m;
}

/// loss + lambda * sum(w * w) over the weights, built by hand.
Graph withL2(Graph g, double lambda) {
  NodeId loss = *g.output("loss");
  NodeId total = -1;
  for (NodeId p : g.leaves(OpKind::Param)) {
    if (!g[p].isWeight)
      continue;
    NodeId sq = op(g, OpKind::Sum, {op(g, OpKind::Mul, {p, p})});
    total = total < 0 ? sq : op(g, OpKind::Add, {total, sq});
  }
  NN_ASSERT(total >= 0, "no weights");
  NodeId l2 = op(g, OpKind::Mul, {constant(g, lambda), total});
  NodeId sum = op(g, OpKind::Add, {loss, l2});
  for (Output &o : g.outputs)
    if (o.name == "loss")
      o.node = sum;
  DiagEngine d;
  return inferShapes(g, d);
}

/// Random values for every leaf of `g`: params small, class labels valid
/// ids, binary labels 0/1, inputs in [0, 1); `batch` rows.
ValueMap randomLeaves(const Graph &g, int64_t batch, uint64_t seed) {
  ValueMap l;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Input && n.op != OpKind::Label && n.op != OpKind::Param)
      continue;
    std::vector<int64_t> shape = n.type.dims;
    for (int64_t &d : shape)
      d = d == kBatch ? batch : d;
    int64_t k = TensorType::of(shape).numel();
    std::vector<double> v = randomValues(k, 0, 1, seed++);
    for (double &x : v) {
      if (n.op == OpKind::Param)
        x = (x - 0.5) * 0.6;
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
        x = std::floor(x * static_cast<double>(n.classes));
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
        x = x < 0.5 ? 0 : 1;
    }
    l[n.name] = val(shape, v);
  }
  return l;
}

} // namespace

TEST(Examples, ChurnGivesTheLectureLoss) {
  Model m = loadExample("churn.nn");
  ASSERT_GT(m.graph.size(), 0);
  ValueMap l = {{"x", val({5, 2}, {15, 22, 8, 6, 60, 7, 12, 21, 5, 2})},
                {"y", val({5}, {1, 0, 1, 0, 0})},
                {"w", val({2}, {0.1, 0.5})},
                {"b", Value::scalar(0.4)}};
  Interpreter::Result r = Interpreter(m.graph).step(l);
  EXPECT_NEAR(r.outputs["loss"].data[0], 3.6709, 5e-5);
  // pred = P(keep) per user: user B 0.985, user E 0.870.
  ASSERT_EQ(r.outputs.count("pred"), 1u);
  EXPECT_NEAR(r.outputs["pred"].data[1], 1 / (1 + std::exp(-4.2)), 1e-12);
  EXPECT_NEAR(r.outputs["pred"].data[4], 1 / (1 + std::exp(-1.9)), 1e-12);
}

TEST(Examples, GradientsOfWholeModels) {
  struct Ex {
    const char *file;
    int64_t batch;
    int maxPerParam;
  };
  for (Ex ex : {Ex{"churn.nn", 5, 50}, Ex{"xor.nn", 4, 50},
                Ex{"xor_neuron.nn", 4, 50}, Ex{"mnist_mlp.nn", 3, 6},
                Ex{"mnist_adam.nn", 3, 6}, Ex{"spirals.nn", 4, 20},
                Ex{"circles.nn", 4, 20}}) {
    Model m = loadExample(ex.file);
    ASSERT_GT(m.graph.size(), 0) << ex.file;
    ValueMap l = randomLeaves(m.graph, ex.batch, 5);
    if (m.graph.findLeaf(OpKind::State, "optimizer.step")) // dropout's key
      l["optimizer.step"] = Value::scalar(3);
    if (m.graph.findLeaf(OpKind::State, "optimizer.first_row"))
      l["optimizer.first_row"] = Value::scalar(2); // a shard's rows
    GradCheckReport r = gradCheck(m.graph, l, ex.maxPerParam);
    EXPECT_GT(r.entries.size(), 0u) << ex.file;
    EXPECT_EQ(r.failures, 0) << ex.file << "\n" << formatGradCheck(r);
    // With L2 on the weights.
    Graph l2 = withL2(m.graph, 0.01);
    NodeId loss = *m.graph.output("loss"), loss2 = *l2.output("loss");
    EXPECT_GT(Interpreter(l2).run(l)[loss2].data[0],
              Interpreter(m.graph).run(l)[loss].data[0])
        << ex.file;
    GradCheckReport r2 = gradCheck(l2, l, ex.maxPerParam);
    EXPECT_EQ(r2.failures, 0) << ex.file << " + l2\n" << formatGradCheck(r2);
  }
}

TEST(Examples, StableLossesKeepTheLossAndGradients) {
  for (const char *file :
       {"churn.nn", "xor.nn", "xor_neuron.nn", "mnist_mlp.nn"}) {
    Model plain = loadExample(file);
    Model stable = loadExample(file, Stage::Forward);
    ASSERT_GT(stable.graph.size(), 0) << file;
    // The rewrite happened: the loss is on logits now.
    const Node &loss = stable.graph[*stable.graph.output("loss")];
    EXPECT_TRUE(loss.op == OpKind::BceLogits ||
                loss.op == OpKind::SoftmaxCrossEntropy)
        << file << ": " << mnemonic(loss.op);
    ValueMap l = randomLeaves(plain.graph, 4, 11);
    ValueMap a = Interpreter(plain.graph).outputs(l, {"loss", "pred"});
    ValueMap b = Interpreter(stable.graph).outputs(l, {"loss", "pred"});
    EXPECT_NEAR(a["loss"].data[0], b["loss"].data[0], 1e-12) << file;
    EXPECT_EQ(a["pred"].shape, b["pred"].shape) << file;
    for (size_t i = 0; i < a["pred"].data.size(); ++i)
      EXPECT_NEAR(a["pred"].data[i], b["pred"].data[i], 1e-15) << file;
    GradCheckReport r = gradCheck(stable.graph, l, 6);
    EXPECT_EQ(r.failures, 0) << file << "\n" << formatGradCheck(r);
    GradCheckReport r2 = gradCheck(addL2(stable.graph, 0.01), l, 6);
    EXPECT_EQ(r2.failures, 0) << file << " + l2\n" << formatGradCheck(r2);
  }
}

TEST(Examples, FullPipelineStepMatchesSgdOnGradients) {
  // The Opt stage (l2, SGD with momentum, cse, dce) of mnist_mlp, one step
  // on the interpreter, against w - lr * (mu * v + g) with g the gradient of
  // the forward graph plus L2 (itself checked above).
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  Model fwd = loadExample("mnist_mlp.nn", Stage::Forward);
  ASSERT_GT(m.graph.size(), 0);
  const OptimizerSpec &opt = m.recipe.optimizer;
  ASSERT_GT(opt.momentum, 0);
  ValueMap l = randomLeaves(m.graph, 3, 21);
  for (NodeId s : m.graph.leaves(OpKind::State)) {
    const Node &n = m.graph[s];
    l[n.name] = n.values.empty() // the lr leaf holds the recipe's lr
                    ? val(n.type.dims, randomValues(n.type.numel(), -0.01, 0.01,
                                                    static_cast<uint64_t>(s)))
                    : val(n.type.dims, n.values);
  }
  Interpreter::Result step = Interpreter(m.graph).step(l);
  Graph grads = differentiate(addL2(fwd.graph, m.recipe.l2), nullptr);
  Interpreter::Result g = Interpreter(grads).step(l);
  int checked = 0;
  for (NodeId p : fwd.graph.leaves(OpKind::Param)) {
    const std::string &name = fwd.graph[p].name;
    const Value &w = l[name], &v = l["optimizer." + name + ".momentum"];
    const Value &grad = g.outputs["grad." + name];
    ASSERT_EQ(step.updates.count(name), 1u) << name;
    for (size_t i = 0; i < w.data.size(); i += 97) {
      double nv = opt.momentum * v.data[i] + grad.data[i];
      EXPECT_NEAR(step.updates["optimizer." + name + ".momentum"].data[i], nv,
                  1e-12)
          << name << "[" << i << "]";
      EXPECT_NEAR(step.updates[name].data[i], w.data[i] - opt.lr * nv, 1e-12)
          << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}
