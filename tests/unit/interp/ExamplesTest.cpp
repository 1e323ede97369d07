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
#include "passes/InferShapes.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace nn;
using namespace nn::test;

namespace {

/// The forward graph of an example, shapes inferred (losses as written).
Model loadExample(const std::string &name) {
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
  m->graph = inferShapes(m->graph, diags);
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
    if (n.op != OpKind::Input && n.op != OpKind::Label &&
        n.op != OpKind::Param)
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
                Ex{"xor_neuron.nn", 4, 50}, Ex{"mnist_mlp.nn", 3, 6}}) {
    Model m = loadExample(ex.file);
    ASSERT_GT(m.graph.size(), 0) << ex.file;
    ValueMap l = randomLeaves(m.graph, ex.batch, 5);
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
