//===- DropoutTest.cpp - Dropout: lowering, interpreter, gradient, eval ---===//
///
/// \file
/// dropout(x, p) from the .nn text to the interpreter: the node the
/// frontend makes (p, its stream, the step and first-row leaves), the mask's
/// statistics and exact values, a new mask each step and the same one for the
/// same step, a shard of rows drawing the whole batch's masks of those rows
/// (forward and gradient), the gradient (dropout of dy with the same key)
/// against central differences, the evaluation graph without it, the printed IR
/// that parses back, and the seed set for the run.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"
#include "tests/unit/DropoutShards.h"

#include "frontend/Frontend.h"
#include "ir/IRParser.h"
#include "ir/Philox.h"
#include "ir/Printer.h"
#include "passes/Autodiff.h"
#include "passes/Pipeline.h"
#include "passes/SeedDropout.h"
#include "passes/StripDropout.h"
#include "passes/optim/Optimizer.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>
#include <sys/wait.h>

using namespace nn;
using namespace nn::test;

namespace {

const char *kModel = R"(model drop
input x : f32[6]
label y : class(3)
fc1 = dense(x, 10, tanh)
h = dropout(fc1, 0.25)
fc2 = dense(h, 8, sigmoid)
h2 = dropout(fc2, 0.5)
out = dense(h2, 3)
loss cross_entropy(softmax(out), y)
train { optimizer sgd(lr = 0.1)  batch 4  seed 7 }
)";

Model parse(const std::string &text) {
  DiagEngine diags;
  diags.addSource("drop.nn", text);
  std::optional<Model> m = parseModel("drop.nn", text, diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  return *m;
}

Graph through(const Model &m, Stage stage) {
  DiagEngine diags;
  return runPipeline(seedDropout(m.graph, m.recipe.seed), m.recipe, stage,
                     PipelineOptions{}, diags);
}

std::vector<NodeId> dropouts(const Graph &g) {
  std::vector<NodeId> ids;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g[id].op == OpKind::Dropout)
      ids.push_back(id);
  return ids;
}

/// A dropout of x [rows, cols] keyed as given (rows kBatch: a batch).
struct Single {
  Graph g;
  NodeId x, step, first, drop;
  Single(int64_t rows, int64_t cols, double p, uint64_t seed, int64_t stream) {
    x = leaf(g, OpKind::Input, "x", f32({rows, cols}));
    step = leaf(g, OpKind::State, kStepLeaf, TensorType::scalar());
    first = leaf(g, OpKind::State, kFirstRowLeaf, TensorType::scalar());
    Node n = makeNode(OpKind::Dropout, {x, step, first});
    n.type = f32({rows, cols});
    n.param = p;
    n.seed = seed;
    n.stream = stream;
    drop = g.add(std::move(n));
    g.outputs.push_back({"y", drop});
  }
  /// y of `xv` at step `stepValue`, xv's row 0 row `firstRow` of the
  /// global batch.
  Value run(const Value &xv, double stepValue, double firstRow = 0) const {
    ValueMap l{{"x", xv},
               {kStepLeaf, Value{{}, {stepValue}}},
               {kFirstRowLeaf, Value{{}, {firstRow}}}};
    return Interpreter(g).run(l)[static_cast<size_t>(drop)];
  }
};

Value nonZero(int64_t rows, int64_t cols) {
  Value v;
  v.shape = {rows, cols};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.5, 2.0);
  for (int64_t i = 0; i < rows * cols; ++i)
    v.data.push_back(static_cast<float>((i % 2 ? -1 : 1) * u(rng)));
  return v;
}

/// Every Param leaf of `g`, uniform in [-1, 1).
ValueMap randomParams(const Graph &g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  ValueMap leaves;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Param)
      continue;
    Value v;
    v.shape = n.type.dims;
    for (int64_t i = 0; i < n.type.numel(); ++i)
      v.data.push_back(u(rng));
    leaves[n.name] = v;
  }
  return leaves;
}

TEST(Dropout, LowersWithItsProbabilityStreamAndTheStepLeaf) {
  Model m = parse(kModel);
  std::vector<NodeId> d = dropouts(m.graph);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(m.graph[d[0]].param, 0.25);
  EXPECT_EQ(m.graph[d[1]].param, 0.5);
  EXPECT_EQ(m.graph[d[0]].stream, 0);
  EXPECT_EQ(m.graph[d[1]].stream, 1);
  for (NodeId id : d) {
    const Node &step = m.graph[m.graph[id].inputs[1]];
    EXPECT_EQ(step.op, OpKind::State);
    EXPECT_EQ(step.name, kStepLeaf);
    const Node &first = m.graph[m.graph[id].inputs[2]];
    EXPECT_EQ(first.op, OpKind::State);
    EXPECT_EQ(first.name, kFirstRowLeaf);
    EXPECT_EQ(first.values, std::vector<double>{0}); // 0 in one process
  }
  EXPECT_EQ(m.graph[d[0]].inputs[1], m.graph[d[1]].inputs[1]); // one leaf
  EXPECT_EQ(m.graph[d[0]].inputs[2], m.graph[d[1]].inputs[2]);
  // The run's seed is set after the command line's overrides.
  EXPECT_EQ(m.graph[d[0]].seed, 0u);
  Graph seeded = seedDropout(m.graph, 99);
  for (NodeId id : dropouts(seeded))
    EXPECT_EQ(seeded[id].seed, 99u);
}

TEST(Dropout, KeepRateIsWithinThreeSigmaAndTheValuesAreExact) {
  const int64_t rows = 1024, cols = 1000; // a million elements
  for (double p : {0.1, 0.25, 0.5, 0.8}) {
    Single s(rows, cols, p, 42, 3);
    Value x = nonZero(rows, cols);
    Value y = s.run(x, 17);
    const float scale = philox::dropoutScale(p);
    int64_t kept = 0;
    for (size_t i = 0; i < y.data.size(); ++i) {
      if (y.data[i] == 0) // dropped: exactly 0
        continue;
      ++kept;
      float xf = static_cast<float>(x.data[i]);
      // Kept: exactly x * (1 / (1 - p)) in float, within one rounding of
      // x / (1 - p).
      ASSERT_EQ(static_cast<float>(y.data[i]), xf * scale) << i;
      ASSERT_NEAR(y.data[i], x.data[i] / (1 - p),
                  std::fabs(x.data[i] / (1 - p)) * 0x1p-23);
    }
    double n = static_cast<double>(rows * cols);
    double sigma = std::sqrt(n * p * (1 - p));
    EXPECT_LE(std::fabs(static_cast<double>(kept) - n * (1 - p)), 3 * sigma)
        << "p " << p << ": kept " << kept << " of " << n;
  }
}

TEST(Dropout, EachStepDrawsANewMaskAndTheSameStepTheSameOne) {
  Single s(64, 50, 0.5, 1, 0);
  Value x = nonZero(64, 50);
  Value a = s.run(x, 5), b = s.run(x, 5), c = s.run(x, 6);
  EXPECT_EQ(a.data, b.data);
  int differ = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    differ += (a.data[i] == 0) != (c.data[i] == 0);
  // Independent masks of p = 0.5 differ at about half the elements.
  EXPECT_GT(differ, 1200);
  EXPECT_LT(differ, 2000);
  // Another stream, another mask.
  Single other(64, 50, 0.5, 1, 1);
  EXPECT_NE(other.run(x, 5).data, a.data);
  // Each element's mask is philox::dropoutKeep's.
  for (int64_t i = 0; i < 3200; ++i)
    ASSERT_EQ(a.data[static_cast<size_t>(i)] != 0,
              philox::dropoutKeep(1, 5, 0, i, 0.5))
        << i;
}

TEST(Dropout, AShardDrawsTheWholeBatchsMasksOfItsRows) {
  // 13 elements a row: shards start inside a group of four.
  const int64_t rows = 10, cols = 13;
  Single s(kBatch, cols, 0.5, 9, 1);
  Value x = nonZero(rows, cols);
  Value whole = s.run(x, 5);
  for (auto [b, e] :
       {std::pair<int64_t, int64_t>{0, 4}, {4, 7}, {7, 10}, {3, 4}, {1, 10}}) {
    Value part = rowsOf(x, rows, b, e);
    EXPECT_EQ(s.run(part, 5, b).data, rowsOf(whole, rows, b, e).data)
        << "rows [" << b << ", " << e << ")";
    if (b > 0) { // counted from its own row 0, a shard draws other masks
      EXPECT_NE(s.run(part, 5, 0).data, rowsOf(whole, rows, b, e).data);
    }
  }
}

TEST(Dropout, ATensorWithoutABatchDimensionIgnoresTheFirstRow) {
  // Every process holds all of it: it draws the same mask everywhere.
  Single s(6, 7, 0.5, 9, 1);
  Value x = nonZero(6, 7);
  EXPECT_EQ(s.run(x, 5, 3).data, s.run(x, 5, 0).data);
}

TEST(Dropout, ProbabilityZeroKeepsEverything) {
  Single s(8, 9, 0.0, 5, 0);
  Value x = nonZero(8, 9);
  EXPECT_EQ(s.run(x, 3).data, x.data);
}

TEST(Dropout, TheGradientIsDropoutOfDyWithTheSameKey) {
  Model m = parse(kModel);
  Graph g = through(m, Stage::Grad);
  std::vector<NodeId> d = dropouts(g);
  ASSERT_EQ(d.size(), 4u); // two forward, two backward
  for (int k = 0; k < 2; ++k) {
    const Node &fwd = g[d[static_cast<size_t>(k)]];
    bool found = false;
    for (NodeId id : d) {
      const Node &b = g[id];
      if (id == d[static_cast<size_t>(k)] || b.stream != fwd.stream)
        continue;
      found = true;
      EXPECT_EQ(b.param, fwd.param);
      EXPECT_EQ(b.seed, 7u);
      EXPECT_EQ(b.seed, fwd.seed);
      EXPECT_EQ(b.inputs[1], fwd.inputs[1]); // the same step
      EXPECT_EQ(b.inputs[2], fwd.inputs[2]); // and first row
    }
    EXPECT_TRUE(found) << "no gradient dropout of stream " << fwd.stream;
  }
  // The step advances by one in the update.
  NodeId step = *g.findLeaf(OpKind::State, kStepLeaf);
  bool advanced = false;
  for (const Update &u : g.updates)
    advanced |= u.target == step;
  EXPECT_TRUE(advanced);
}

TEST(Dropout, GradientMatchesCentralDifferencesAtAFixedStep) {
  Model m = parse(kModel);
  Graph fwd = through(m, Stage::Forward);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  ValueMap leaves = randomParams(fwd, 5);
  Value x;
  x.shape = {4, 6};
  for (int i = 0; i < 24; ++i)
    x.data.push_back(u(rng));
  leaves["x"] = x;
  leaves["y"] = Value{{4}, {0, 2, 1, 2}};
  for (auto [step, first] : {std::pair{0.0, 0.0}, {11.0, 3.0}}) {
    leaves[kStepLeaf] = Value::scalar(step);
    leaves[kFirstRowLeaf] = Value::scalar(first);
    GradCheckReport r = gradCheck(fwd, leaves, 50);
    EXPECT_EQ(r.failures, 0) << formatGradCheck(r);
    EXPECT_GT(r.entries.size(), 100u);
  }
}

TEST(Dropout, AShardsForwardAndGradientDrawTheWholeBatchsMasks) {
  // The training graph on a batch of 9 rows, and on shards of it with
  // their first row: every dropout of a shard, forward and backward,
  // keeps exactly the elements the whole batch's keeps in those rows (its
  // inputs differ in the backward: the mean's 1 / rows).
  Model m = parse(kModel);
  Graph g = through(m, Stage::Grad);
  ValueMap leaves = randomParams(g, 12);
  const int64_t rows = 9;
  Value x = nonZero(rows, 6);
  Value y{{rows}, {0, 2, 1, 2, 1, 0, 0, 1, 2}};
  leaves[kStepLeaf] = Value::scalar(4);
  leaves[kFirstRowLeaf] = Value::scalar(0);
  leaves[kLrLeaf] = Value::scalar(0.1);
  leaves["x"] = x;
  leaves["y"] = y;
  std::vector<Value> whole = Interpreter(g).run(leaves);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 4}, {4, 9}, {5, 7}}) {
    std::vector<Value> got =
        Interpreter(g).run(shardLeaves(g, leaves, rows, b, e));
    int64_t checked = 0;
    for (NodeId id : dropouts(g)) {
      NodeId in = g[id].inputs[0];
      checked += expectWholeBatchMask(
          g[id], b, whole[in].data, whole[id].data, got[in].data, got[id].data,
          "dropout %" + std::to_string(id) + " of rows [" + std::to_string(b) +
              ", " + std::to_string(e) + ")");
    }
    // Each shard row: 10 + 8 elements, forward and backward.
    EXPECT_GT(checked, (e - b) * 18 * 2 * 9 / 10);
  }
}

TEST(Dropout, EvaluationGraphsRunWithoutIt) {
  Model m = parse(kModel);
  Graph fwd = through(m, Stage::Forward);
  Graph eval = stripDropout(fwd);
  EXPECT_TRUE(dropouts(eval).empty());
  EXPECT_FALSE(eval.findLeaf(OpKind::State, kStepLeaf)); // nothing reads it
  EXPECT_FALSE(eval.findLeaf(OpKind::State, kFirstRowLeaf));
  // The same model without dropout computes the same, without a step.
  std::string plain = std::regex_replace(
      kModel, std::regex(R"(dropout\((\w+), [0-9.]+\))"), "$1");
  ASSERT_EQ(plain.find("dropout"), std::string::npos);
  Graph ref = through(parse(plain), Stage::Forward);
  ValueMap leaves;
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const Node &n : ref.nodes) {
    if (n.op != OpKind::Param && n.op != OpKind::Input)
      continue;
    Value v;
    v.shape = n.type.dims;
    for (int64_t &dim : v.shape)
      dim = dim == kBatch ? 5 : dim;
    int64_t count = 1;
    for (int64_t dim : v.shape)
      count *= dim;
    v.data.resize(static_cast<size_t>(count));
    for (double &e : v.data)
      e = u(rng);
    leaves[n.name] = v;
  }
  leaves["y"] = Value{{5}, {0, 1, 2, 0, 1}};
  ValueMap a = Interpreter(eval).outputs(leaves, {"loss", "pred"});
  ValueMap b = Interpreter(ref).outputs(leaves, {"loss", "pred"});
  EXPECT_EQ(a.at("pred").data, b.at("pred").data);
  EXPECT_EQ(a.at("loss").data, b.at("loss").data);
  // A graph without dropout is unchanged.
  EXPECT_EQ(printGraph(stripDropout(ref)), printGraph(ref));
}

TEST(Dropout, PrintedIrShowsTheKeyAndParsesBack) {
  Model m = parse(kModel);
  Graph g = through(m, Stage::Grad);
  std::string text = printGraph(g);
  EXPECT_NE(text.find("dropout %"), std::string::npos) << text;
  EXPECT_NE(text.find("p = 0.25, seed = 7, stream = 0"), std::string::npos)
      << text;
  EXPECT_NE(text.find("p = 0.5, seed = 7, stream = 1"), std::string::npos);
  DiagEngine diags;
  diags.addSource("drop.nnir", text);
  Graph back;
  ASSERT_NO_THROW(back = parseGraph("drop.nnir", text, diags)) << diags.str();
  EXPECT_EQ(printGraph(back), text);
}

/// Runs `script` with /usr/bin/python3; its stdout, and its exit code in
/// `rc` (-1 when it could not run).
std::string runPython(const std::string &script, int &rc) {
  std::string cmd = "/usr/bin/python3 -c '" + script + "' 2>&1";
  std::FILE *p = ::popen(cmd.c_str(), "r");
  std::string out;
  if (!p) {
    rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  int status = ::pclose(p);
  rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(Dropout, KeptElementsAreExactlyPyTorchs) {
  // nn.Dropout's kept elements (train mode, PyTorch's own mask) against
  // x * dropoutScale(p), bit for bit: the scaling nnc applies on every
  // backend is PyTorch's.
  const std::string script =
      "import sys\n"
      "try:\n"
      "  import torch\n"
      "except ImportError:\n"
      "  print(\"no torch\"); sys.exit(77)\n"
      "torch.manual_seed(0)\n"
      "for p in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9):\n"
      "  x = torch.linspace(-3, 3, 4001, dtype=torch.float32)\n"
      "  y = torch.nn.Dropout(p).train()(x)\n"
      "  for a, b in zip(x.tolist(), y.tolist()):\n"
      "    print(repr(p), a.hex(), b.hex())\n";
  int rc = 0;
  std::string out = runPython(script, rc);
  if (rc == 77 || rc == 127 || rc == -1)
    GTEST_SKIP() << "PyTorch (/usr/bin/python3 with torch) is missing: "
                 << out.substr(0, 200);
  ASSERT_EQ(rc, 0) << out.substr(0, 2000);
  std::istringstream in(out);
  double p;
  std::string xs, ys;
  int kept = 0, lines = 0;
  while (in >> p >> xs >> ys) {
    ++lines;
    float x = static_cast<float>(std::strtod(xs.c_str(), nullptr));
    float y = static_cast<float>(std::strtod(ys.c_str(), nullptr));
    if (y == 0)
      continue;
    ++kept;
    ASSERT_EQ(y, x * philox::dropoutScale(p)) << "p " << p << ", x " << x;
  }
  EXPECT_EQ(lines, 6 * 4001);
  EXPECT_GT(kept, 6 * 4001 / 4);
}

} // namespace
