//===- EvalFormTest.cpp - The graph evaluation runs -----------------------===//
///
/// \file
/// passes/EvalForm.h on a hand-built batch-norm model (batch_normalize,
/// its scale and shift, running-statistic updates, dropout): the evaluation
/// graph has no batch_normalize, no dropout and no updates, one channel
/// affine where batch norm had two, and on the
/// interpreter it computes PyTorch's eval-mode formula, written out here by
/// hand, to 1e-12. The training form computes something else (batch
/// statistics), a graph already in evaluation form is unchanged, and
/// Trainer::evaluate (validation, test, `nnc eval`) runs the evaluation
/// form.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/Printer.h"
#include "passes/EvalForm.h"
#include "passes/InferShapes.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Dataset.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

constexpr int64_t kN = 4, kC = 3, kH = 2, kW = 3, kClasses = 5;
constexpr int64_t kFeatures = kC * kH * kW;
constexpr double kEps = 1e-5;

/// x -> batch_normalize -> channel_affine (b1.weight, b1.bias) -> dropout
/// -> flatten -> matmul: "pred", and softmax cross-entropy: "loss"; the
/// normalized image is output "normed". The running statistics get
/// nn.BatchNorm2d's updates (momentum 0.1).
struct BatchNormModel {
  Graph g;
  ValueMap leaves;
  SrcLoc normLoc{"m.nn", 5, 6};

  BatchNormModel() {
    NodeId x = leaf(g, OpKind::Input, "x", f32({kBatch, kC, kH, kW}));
    NodeId rm = leaf(g, OpKind::Param, "b1.running_mean", f32({kC}));
    NodeId rv = leaf(g, OpKind::Param, "b1.running_var", f32({kC}));
    g[rm].buffer = g[rv].buffer = true;
    NodeId gamma = leaf(g, OpKind::Param, "b1.weight", f32({kC}));
    NodeId beta = leaf(g, OpKind::Param, "b1.bias", f32({kC}));
    NodeId w = leaf(g, OpKind::Param, "fc.weight", f32({kFeatures, kClasses}));
    NodeId step = leaf(g, OpKind::State, kStepLeaf, TensorType::scalar());
    NodeId first = leaf(g, OpKind::State, kFirstRowLeaf, TensorType::scalar());
    NodeId y = classLabel(g, "y", kClasses);

    NodeId xh = op(g, OpKind::BatchNormalize, {x, rm, rv});
    g[xh].param = kEps;
    g[xh].loc = normLoc;
    NodeId normed = op(g, OpKind::ChannelAffine, {xh, gamma, beta});
    NodeId dropped = op(g, OpKind::Dropout, {normed, step, first});
    g[dropped].param = 0.5;
    g[dropped].seed = 7;
    NodeId flat = op(g, OpKind::Reshape, {dropped});
    g[flat].shape = {kBatch, kFeatures};
    NodeId pred = op(g, OpKind::MatMul, {flat, w});
    NodeId loss = op(g, OpKind::SoftmaxCrossEntropy, {pred, y});
    NodeId k9 = constant(g, 0.9), k1 = constant(g, 0.1);
    for (auto [stat, k] : {std::pair{rm, OpKind::ChannelMean},
                           std::pair{rv, OpKind::ChannelVar}})
      g.updates.push_back(
          {stat, op(g, OpKind::Add, {op(g, OpKind::Mul, {k9, stat}),
                                     op(g, OpKind::Mul,
                                        {k1, op(g, k, {x})})})});
    g.outputs = {{"pred", pred}, {"loss", loss}, {"normed", normed}};
    DiagEngine d;
    g = inferShapes(g, d);
    EXPECT_FALSE(d.hasErrors()) << d.str();

    leaves["x"] = val({kN, kC, kH, kW},
                      randomValues(kN * kFeatures, -2, 3, 1));
    leaves["b1.running_mean"] = val({kC}, randomValues(kC, -1, 1, 2));
    leaves["b1.running_var"] = val({kC}, randomValues(kC, 0.2, 3, 3));
    leaves["b1.weight"] = val({kC}, randomValues(kC, 0.5, 1.5, 4));
    leaves["b1.bias"] = val({kC}, randomValues(kC, -1, 1, 5));
    leaves["fc.weight"] =
        val({kFeatures, kClasses}, randomValues(kFeatures * kClasses, -1, 1, 6));
    leaves[kStepLeaf] = Value::scalar(3);
    leaves[kFirstRowLeaf] = Value::scalar(0);
    leaves["y"] = val({kN}, {0, 4, 2, 1});
  }
};

int count(const Graph &g, OpKind k) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k;
  return n;
}

} // namespace

TEST(EvalForm, BatchNormBecomesItsRunningStatisticsAffine) {
  BatchNormModel m;
  Graph e = evalForm(m.g);
  EXPECT_EQ(count(e, OpKind::BatchNormalize), 0);
  EXPECT_EQ(count(e, OpKind::Dropout), 0);
  EXPECT_TRUE(e.updates.empty());
  // The nodes only the running statistics' updates read are gone; the
  // step leaf too (nothing reads it once dropout is gone).
  EXPECT_EQ(count(e, OpKind::ChannelMean), 0);
  EXPECT_EQ(count(e, OpKind::ChannelVar), 0);
  EXPECT_FALSE(e.findLeaf(OpKind::State, kStepLeaf));
  EXPECT_FALSE(e.findLeaf(OpKind::State, kFirstRowLeaf));
  // The running statistics stay: the evaluation reads them.
  EXPECT_TRUE(e.findLeaf(OpKind::Param, "b1.running_mean"));
  EXPECT_TRUE(e.findLeaf(OpKind::Param, "b1.running_var"));
  // batch_normalize's place: one channel_affine of x, its running
  // statistics' affine and its weight and bias merged
  // (passes/MergeAffines.cpp), with the scale and shift computed ahead.
  EXPECT_EQ(count(e, OpKind::ChannelAffine), 1);
  for (const Node &n : e.nodes)
    if (n.op == OpKind::ChannelAffine)
      EXPECT_EQ(e[n.inputs[0]].name, "x");
  // The eps of the running variance, at batch norm's location.
  int atNorm = 0;
  for (const Node &n : e.nodes)
    atNorm += n.op == OpKind::Sqrt && n.loc == m.normLoc;
  EXPECT_EQ(atNorm, 1);
  ASSERT_TRUE(e.output("pred") && e.output("loss") && e.output("normed"));
}

// nn.BatchNorm2d in eval mode: (x - running_mean) / sqrt(running_var + eps)
// * weight + bias, then flatten and matmul, each written out here.
TEST(EvalForm, ComputesPyTorchsEvalFormula) {
  BatchNormModel m;
  ValueMap out =
      Interpreter(evalForm(m.g)).outputs(m.leaves, {"normed", "pred"});
  const std::vector<double> &x = m.leaves["x"].data,
                            &rm = m.leaves["b1.running_mean"].data,
                            &rv = m.leaves["b1.running_var"].data,
                            &gamma = m.leaves["b1.weight"].data,
                            &beta = m.leaves["b1.bias"].data,
                            &w = m.leaves["fc.weight"].data;
  std::vector<double> normed(x.size());
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t c = 0; c < kC; ++c)
      for (int64_t i = 0; i < kH * kW; ++i) {
        int64_t at = (n * kC + c) * kH * kW + i;
        normed[at] =
            (x[at] - rm[c]) / std::sqrt(rv[c] + kEps) * gamma[c] + beta[c];
      }
  ASSERT_EQ(out["normed"].shape, (std::vector<int64_t>{kN, kC, kH, kW}));
  for (size_t i = 0; i < normed.size(); ++i)
    EXPECT_NEAR(out["normed"].data[i], normed[i], 1e-12) << i;
  ASSERT_EQ(out["pred"].shape, (std::vector<int64_t>{kN, kClasses}));
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t k = 0; k < kClasses; ++k) {
      double z = 0;
      for (int64_t f = 0; f < kFeatures; ++f)
        z += normed[n * kFeatures + f] * w[f * kClasses + k];
      EXPECT_NEAR(out["pred"].data[n * kClasses + k], z, 1e-12)
          << n << ", " << k;
    }
}

// The training form normalizes with the batch's own statistics: not the
// same numbers (the running statistics here are not the batch's), so the
// test above tells the two apart.
TEST(EvalForm, DiffersFromTheTrainingForm) {
  BatchNormModel m;
  const std::vector<double> eval =
      Interpreter(evalForm(m.g)).outputs(m.leaves, {"normed"})["normed"].data;
  const std::vector<double> train =
      Interpreter(m.g).outputs(m.leaves, {"normed"})["normed"].data;
  ASSERT_EQ(eval.size(), train.size());
  double most = 0;
  for (size_t i = 0; i < eval.size(); ++i)
    most = std::max(most, std::abs(eval[i] - train[i]));
  EXPECT_GT(most, 0.1);
}

TEST(EvalForm, IsIdempotentAndLeavesPlainGraphsAlone) {
  BatchNormModel m;
  Graph e = evalForm(m.g);
  EXPECT_EQ(printGraph(evalForm(e)), printGraph(e));
  // No batch norm, no dropout, no updates: the graph as it was.
  Graph plain;
  NodeId a = leaf(plain, OpKind::Input, "a", f32({kBatch, 3}));
  NodeId w = leaf(plain, OpKind::Param, "w", f32({3, 2}));
  plain.outputs = {{"pred", op(plain, OpKind::MatMul, {a, w}, f32({kBatch, 2}))}};
  EXPECT_EQ(printGraph(evalForm(plain)), printGraph(plain));
}

// Evaluation writes no running statistics even without batch norm in the
// graph: updates are training's.
TEST(EvalForm, DropsUpdates) {
  Graph g;
  NodeId s = leaf(g, OpKind::Param, "s", f32({2}));
  NodeId one = constant(g, 1.0);
  NodeId next = op(g, OpKind::Add, {s, one}, f32({2}));
  g.outputs = {{"pred", s}};
  g.updates.push_back({s, next});
  Graph e = evalForm(g);
  EXPECT_TRUE(e.updates.empty());
  EXPECT_EQ(e.size(), 1); // the add only the update read is gone
}

// Validation, test and `nnc eval` go through Trainer::evaluate: it runs the
// evaluation form (running statistics), not the training form it is given.
TEST(EvalForm, TrainerEvaluatesWithTheRunningStatistics) {
  BatchNormModel m;
  TensorMap state;
  ValueMap rounded = m.leaves; // what float tensors hold
  for (auto &[name, v] : rounded)
    v = toValue(toTensor(v));
  for (NodeId id : m.g.leaves(OpKind::Param))
    state[m.g[id].name] = toTensor(m.leaves[m.g[id].name]);
  Dataset data;
  data.x = toTensor(m.leaves["x"]);
  data.y = toTensor(m.leaves["y"]);
  Recipe recipe;
  Metrics got = Trainer(m.g, m.g, recipe).evaluate(state, data, "interp");
  double eval =
      Interpreter(evalForm(m.g)).outputs(rounded, {"loss"})["loss"].data[0];
  double train = Interpreter(m.g).outputs(rounded, {"loss"})["loss"].data[0];
  EXPECT_EQ(got.samples, kN);
  EXPECT_NEAR(got.loss, eval, 1e-6 * std::abs(eval));
  EXPECT_GT(std::abs(eval - train), 1e-3); // the two forms differ here
}
