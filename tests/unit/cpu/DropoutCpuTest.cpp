//===- DropoutCpuTest.cpp - Dropout on the CPU backend --------------------===//
///
/// \file
/// The CPU kernel of dropout draws the interpreter's mask bit for bit (the
/// same Philox template, in LLVM integer ops), at any size (groups of four
/// cut by the end of the tensor), step and stream, split between threads;
/// a shard of rows draws the whole batch's masks of those rows, forward
/// and backward;
/// a model with dropout trains step for step like the interpreter, fused
/// and unfused.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"
#include "tests/unit/DropoutShards.h"

#include "codegen/cpu/ThreadPool.h"
#include "runtime/Executor.h"
#include "ir/Philox.h"
#include "passes/SeedDropout.h"
#include "passes/optim/Optimizer.h"

using namespace nn;
using namespace nn::test;

namespace {

const char *kModel = R"(model drop
input x : f32[7]
label y : class(3)
fc1 = dense(x, 13, relu)
h = dropout(fc1, 0.3)
fc2 = dense(h, 9, tanh)
h2 = dropout(fc2, 0.5)
out = dense(h2, 3)
loss cross_entropy(softmax(out), y)
train { optimizer sgd(lr = 0.1, momentum = 0.9)  batch 4  seed 11 }
)";

/// One dropout of x [N, cols] keyed (p, seed, stream).
Graph single(int64_t cols, double p, uint64_t seed, int64_t stream) {
  Graph g;
  Node x = makeNode(OpKind::Input, {});
  x.name = "x";
  x.type = TensorType::of({kBatch, cols});
  NodeId xi = g.add(x);
  Node s = makeNode(OpKind::State, {});
  s.name = kStepLeaf;
  s.type = TensorType::scalar();
  NodeId si = g.add(s);
  s.name = kFirstRowLeaf;
  NodeId fi = g.add(s);
  Node d = makeNode(OpKind::Dropout, {xi, si, fi});
  d.type = TensorType::of({kBatch, cols});
  d.param = p;
  d.seed = seed;
  d.stream = stream;
  g.outputs.push_back({"y", g.add(d)});
  return g;
}

TEST(CpuDropout, DrawsTheInterpretersMaskBitForBit) {
  for (auto [rows, cols, p, step] :
       {std::tuple<int64_t, int64_t, double, double>{1, 1, 0.5, 0},
        {3, 5, 0.2, 1},     // 15 elements: a last group of three
        {37, 29, 0.7, 123}, // odd sizes
        {256, 300, 0.1, 40000}}) {
    Graph g = single(cols, p, 0x1234567890ULL, 2);
    ValueMap leaves = randomLeaves(g, rows, 9);
    for (double &v : leaves["x"].data)
      v = v == 0 ? 1 : v; // every element non-zero: y == 0 iff dropped
    leaves[kStepLeaf] = Value{{}, {step}};
    leaves[kFirstRowLeaf] = Value{{}, {0}};
    MemoryPlan plan = planWithoutReuse(g, rows);
    std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, CpuOptions{});
    CpuRun run = runProgram(g, *prog, leaves, rows);
    std::vector<float> got = run.value(g, plan, 3, rows);
    std::vector<Value> want = Interpreter(g).run(leaves);
    ASSERT_EQ(got.size(), want[3].data.size());
    int64_t kept = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      // Same mask, and the same float: x * scale is exact in double.
      ASSERT_EQ(got[i], static_cast<float>(want[3].data[i]))
          << rows << "x" << cols << " element " << i;
      kept += got[i] != 0;
    }
    EXPECT_GT(kept, 0);
  }
}

TEST(CpuDropout, ThreadsSplitTheLoopWithoutChangingTheMask) {
  int saved = cpuThreads();
  Graph g = single(1000, 0.4, 77, 5);
  const int64_t rows = 300; // 300,000 elements: split between tasks
  ValueMap leaves = randomLeaves(g, rows, 2);
  leaves[kStepLeaf] = Value{{}, {9}};
  leaves[kFirstRowLeaf] = Value{{}, {7}};
  MemoryPlan plan = planWithoutReuse(g, rows);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, CpuOptions{});
  setCpuThreads(1);
  std::vector<float> one =
      runProgram(g, *prog, leaves, rows).value(g, plan, 3, rows);
  for (int threads : {2, 3}) {
    setCpuThreads(threads);
    EXPECT_EQ(runProgram(g, *prog, leaves, rows).value(g, plan, 3, rows), one)
        << threads << " threads";
  }
  setCpuThreads(saved);
}

/// Random leaves of `g` for a whole batch of `rows` rows at step `step`.
ValueMap wholeBatch(const Graph &g, int64_t rows, uint64_t seed, double step) {
  ValueMap leaves = randomLeaves(g, rows, seed);
  leaves[kStepLeaf] = Value::scalar(step);
  leaves[kFirstRowLeaf] = Value::scalar(0);
  return leaves;
}

TEST(CpuDropout, AShardDrawsTheWholeBatchsMasksOfItsRows) {
  // x [N, 13]: shards start inside a group of four.
  Graph g = single(13, 0.5, 0xfeedULL, 1);
  const int64_t rows = 10;
  ValueMap leaves = wholeBatch(g, rows, 4, 6);
  MemoryPlan plan = planWithoutReuse(g, rows);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, CpuOptions{});
  std::vector<float> whole =
      runProgram(g, *prog, leaves, rows).value(g, plan, 3, rows);
  for (auto [b, e] :
       {std::pair<int64_t, int64_t>{0, 4}, {4, 7}, {7, 10}, {3, 4}}) {
    ValueMap part = shardLeaves(g, leaves, rows, b, e);
    std::vector<float> got =
        runProgram(g, *prog, part, e - b).value(g, plan, 3, e - b);
    EXPECT_EQ(
        got, std::vector<float>(whole.begin() + b * 13, whole.begin() + e * 13))
        << "rows [" << b << ", " << e << ")";
  }
}

TEST(CpuDropout, AShardsGradientDrawsTheWholeBatchsMasks) {
  // The compiled training step (unfused: every value in its own buffer) on
  // 9 rows and on shards of them: every dropout's mask, forward and
  // backward, is the whole batch's in those rows.
  Model m = parseText("drop.nn", kModel);
  m.graph = seedDropout(m.graph, m.recipe.seed);
  m = throughPipeline(m, Stage::Opt);
  const Graph &g = m.graph;
  const int64_t rows = 9;
  ValueMap leaves = wholeBatch(g, rows, 8, 2);
  MemoryPlan plan = planWithoutReuse(g, rows);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, CpuOptions{});
  CpuRun whole = runProgram(g, *prog, leaves, rows);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 5}, {5, 9}, {2, 3}}) {
    CpuRun part =
        runProgram(g, *prog, shardLeaves(g, leaves, rows, b, e), e - b);
    int dropouts = 0;
    for (NodeId id = 0; id < g.size(); ++id) {
      if (g[id].op != OpKind::Dropout)
        continue;
      ++dropouts;
      NodeId in = g[id].inputs[0];
      EXPECT_GT(expectWholeBatchMask(g[id], b, whole.value(g, plan, in, rows),
                                     whole.value(g, plan, id, rows),
                                     part.value(g, plan, in, e - b),
                                     part.value(g, plan, id, e - b),
                                     "dropout %" + std::to_string(id) +
                                         " of rows [" + std::to_string(b) +
                                         ", " + std::to_string(e) + ")"),
                0);
    }
    EXPECT_EQ(dropouts, 4); // two forward, two backward
  }
}

TEST(CpuDropout, AModelWithDropoutStepsLikeTheInterpreter) {
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = parseText("drop.nn", kModel);
    m.graph = seedDropout(m.graph, m.recipe.seed);
    m = throughPipeline(m, stage);
    for (auto [step, first] : {std::pair{0.0, 0.0}, {3.0, 5.0}}) {
      ValueMap leaves = randomLeaves(m.graph, 21, 5);
      leaves[kStepLeaf] = Value::scalar(step);
      leaves[kFirstRowLeaf] = Value::scalar(first);
      checkAgainstInterpreter(m.graph, leaves, 21, 32, 1e-4,
                              stage == Stage::Opt ? "unfused" : "fused");
    }
  }
}

TEST(CpuDropout, TheExecutorsStepsMatchTheInterpreters) {
  // The real executor (memory plan with reuse, updates written in place):
  // the backward dropouts read the step before its update, as the
  // interpreter's, over several chained steps.
  Model m = parseText("drop.nn", kModel);
  m.graph = seedDropout(m.graph, m.recipe.seed);
  m = throughPipeline(m, Stage::Fused);
  const Graph &g = m.graph;
  ValueMap want = randomLeaves(g, 16, 6);
  want[kStepLeaf] = Value{{}, {0}};
  TensorMap state;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Param || n.op == OpKind::State)
      state[n.name] = toTensor(want.at(n.name));
  std::unique_ptr<Executor> exec = makeExecutor("cpu", g);
  exec->setState(state);
  for (int step = 0; step < 3; ++step) {
    ValueMap b = randomLeaves(g, 16, 50 + static_cast<uint64_t>(step));
    TensorMap batch;
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Input || n.op == OpKind::Label) {
        want[n.name] = b.at(n.name);
        batch[n.name] = toTensor(b.at(n.name));
      }
    exec->run(batch);
    for (const auto &[name, v] : Interpreter(g).step(want).updates)
      want[name] = v;
  }
  for (const auto &[name, t] : exec->state()) {
    std::vector<float> got(t.data.begin(), t.data.end());
    expectClose(got, want.at(name).data, 1e-4, "after 3 steps: " + name);
  }
  EXPECT_EQ(exec->state().at(kStepLeaf).data, std::vector<float>{3});
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
