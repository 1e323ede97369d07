//===- FusionPassTest.cpp - Fusion decisions, the log and --fuse ----------===//
///
/// \file
/// Small hand-built graphs that each fusion must leave alone, with the
/// reason in the log (another user of an intermediate, a shape, a reduction
/// boundary), and graphs it must fuse; every rewritten graph verifies and
/// computes what the original did on the interpreter. Also --fuse parsing.
///
//===----------------------------------------------------------------------===//

#include "LeafValues.h"
#include "../passes/TestGraphs.h"

#include "ir/Support.h"
#include "ir/Verifier.h"
#include "passes/DCE.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

Graph typed(Graph g) {
  DiagEngine d;
  return inferShapes(g, d);
}

/// Runs `pass` and DCE; checks the result verifies and gives `g`'s outputs
/// (to 1e-12) on fixed leaf values.
Graph runChecked(const Graph &g, Graph (*pass)(const Graph &, FusionLog &),
                 FusionLog &log) {
  Graph out = dce(pass(g, log));
  std::vector<std::string> errs = verifyGraph(out);
  EXPECT_TRUE(errs.empty()) << (errs.empty() ? "" : errs[0]);
  ValueMap leaves = test::leafValues(g, 2, [](const Node &, int64_t i) {
    return std::sin(0.7 * static_cast<double>(i) + 0.3);
  });
  Interpreter::Result want = Interpreter(g).step(leaves);
  Interpreter::Result got = Interpreter(out).step(leaves);
  for (const auto &[name, w] : want.outputs) {
    const Value &v = got.outputs.at(name);
    EXPECT_EQ(w.shape, v.shape) << name;
    for (int64_t i = 0; i < w.numel(); ++i)
      EXPECT_NEAR(w.data[i], v.data[i], 1e-12 * std::max(1.0, std::fabs(w.data[i])))
          << name;
  }
  return out;
}

std::string logText(const FusionLog &log) {
  std::string s;
  for (const FusionLog::Entry &e : log.entries)
    s += e.fusion + (e.fused ? " fused: " : " kept: ") + e.text + "\n";
  return s;
}

int countOp(const Graph &g, OpKind k) {
  int n = 0;
  for (const Node &node : g.nodes)
    n += node.op == k;
  return n;
}

} // namespace

TEST(FuseList, AllNoneAndLists) {
  EXPECT_EQ(parseFusionList("all").size(), fusionNames().size());
  EXPECT_TRUE(parseFusionList("none").empty());
  EXPECT_EQ(parseFusionList("dense,sgd"),
            (std::set<std::string>{"dense", "sgd"}));
  try {
    parseFusionList("dense,elementwis");
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "nnc: error: unknown fusion 'elementwis' in --fuse (did you "
                  "mean 'elementwise'?)",
                  0),
              0u)
        << e.what();
  }
  EXPECT_THROW(parseFusionList(""), UserError);
  EXPECT_THROW(parseFusionList("dense,"), UserError);
}

TEST(FuseDense, ProductWithAnotherUserStaysApart) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}));
  NodeId w = param(g, "w", {3, 4}, true);
  NodeId b = param(g, "b", {4}, false);
  NodeId p = op(g, OpKind::MatMul, {x, w}, "p");
  NodeId z = op(g, OpKind::Add, {p, b}, "z");
  g.outputs.push_back({"z", op(g, OpKind::Relu, {z}, "a")});
  g.outputs.push_back({"p", p});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseDense, log);
  EXPECT_EQ(countOp(out, OpKind::Dense), 0);
  EXPECT_NE(logText(log).find("dense kept: %p: not fused: the product has 2 "
                              "uses: %z, output 'p'"),
            std::string::npos)
      << logText(log);
}

TEST(FuseDense, WideningBiasIsAShapeReason) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}));
  NodeId w = param(g, "w", {3, 1}, true);
  NodeId b = param(g, "b", {4}, false);
  NodeId p = op(g, OpKind::MatMul, {x, w}, "p");
  g.outputs.push_back({"z", op(g, OpKind::Add, {p, b}, "z")});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseDense, log);
  EXPECT_EQ(countOp(out, OpKind::Dense), 0);
  EXPECT_NE(logText(log).find("not fused: shape: the bias %b f32[4] widens "
                              "the product f32[N,1]"),
            std::string::npos)
      << logText(log);
}

TEST(FuseDense, SigmoidJoinsWhenTheSumIsUsedOnce) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}));
  NodeId w = param(g, "w", {3, 2}, true);
  NodeId b = param(g, "b", {2}, false);
  NodeId z = op(g, OpKind::Add, {b, op(g, OpKind::MatMul, {x, w})}, "z");
  g.outputs.push_back({"a", op(g, OpKind::Sigmoid, {z}, "a")});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseDense, log);
  ASSERT_EQ(countOp(out, OpKind::Dense), 1);
  NodeId a = *out.output("a");
  EXPECT_EQ(out[a].op, OpKind::Dense);
  EXPECT_EQ(out[a].act, Activation::Sigmoid);
  EXPECT_EQ(out[a].name, "a");
}

TEST(FuseElementwise, StopsAtReductionsAndSharedValues) {
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}));
  NodeId s = op(g, OpKind::Sum, {x}, "s");
  NodeId t = op(g, OpKind::Exp, {x}, "t"); // two users: stays
  NodeId a = op(g, OpKind::Neg, {t});
  NodeId l = op(g, OpKind::Log, {op(g, OpKind::Add, {t, constant(g, 2.0)})});
  NodeId r = op(g, OpKind::Add, {op(g, OpKind::Mul, {a, l}), s}, "r");
  g.outputs.push_back({"r", r});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseElementwise, log);
  NodeId root = *out.output("r");
  ASSERT_EQ(out[root].op, OpKind::Elementwise);
  EXPECT_EQ(out[root].body.size(), 6u); // neg, const, add, log, mul, add
  EXPECT_EQ(out[root].inputs.size(), 2u); // t and s
  EXPECT_EQ(countOp(out, OpKind::Exp), 1);
  std::string text = logText(log);
  EXPECT_NE(text.find("%t has 2 uses"), std::string::npos) << text;
  EXPECT_NE(text.find("reduction boundary at %s"), std::string::npos) << text;
}

TEST(FuseElementwise, ExpandThatGivesTheShapeStaysAnOperand) {
  // r = 2 * exp(expand(sum(x), x)): dropping the expand would make r a
  // scalar, so the group is rebuilt with the expand as its operand.
  Graph g;
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}));
  NodeId s = op(g, OpKind::Sum, {x}, "s");
  NodeId e = op(g, OpKind::Expand, {s, x}, "e");
  NodeId r = op(g, OpKind::Mul, {constant(g, 2.0), op(g, OpKind::Exp, {e})},
                "r");
  g.outputs.push_back({"r", r});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseElementwise, log);
  NodeId root = *out.output("r");
  ASSERT_EQ(out[root].op, OpKind::Elementwise); // mul(2, exp(%0))
  ASSERT_EQ(out[root].inputs.size(), 1u);
  EXPECT_EQ(out[out[root].inputs[0]].op, OpKind::Expand);
  EXPECT_EQ(out[root].type.dims, (std::vector<int64_t>{kBatch, 3}));
}

TEST(FuseSgd, SharedStepIsLeftAlone) {
  Graph g;
  NodeId w = param(g, "w", {3}, true);
  NodeId v = param(g, "v", {3}, true);
  NodeId grad = leaf(g, OpKind::Input, "g", TensorType::of({3}));
  NodeId lr = constant(g, 0.1);
  NodeId step = op(g, OpKind::Mul, {lr, grad}, "step");
  g.updates.push_back({w, op(g, OpKind::Sub, {w, step}, "new.w")});
  g.updates.push_back({v, op(g, OpKind::Sub, {v, step}, "new.v")});
  FusionLog log;
  Graph out = runChecked(typed(g), fuseSgd, log);
  EXPECT_EQ(countOp(out, OpKind::Sgd), 0);
  EXPECT_NE(logText(log).find("lr * step %step has 2 uses"),
            std::string::npos)
      << logText(log);
}

TEST(FusionLogText, CommentsAfterAHeader) {
  FusionLog log;
  EXPECT_EQ(log.str(), "");
  log.add("dense", true, "a");
  log.add("sgd", false, "b");
  EXPECT_EQ(log.str(), "# fusion log (%N numbers are node numbers of "
                       "--stage=opt):\n#   dense: a\n#   sgd: [kept] b\n");
}
