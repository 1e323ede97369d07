//===- MemoryPlanTest.cpp - Arena layout by liveness ----------------------===//
///
/// \file
/// planMemory on every example (forward and whole training step, several
/// batch sizes) checked exhaustively: no two buffers live at the same step
/// overlap, offsets are aligned, everything fits the arena; reuse happens;
/// random graphs stress the free-list allocator.
///
//===----------------------------------------------------------------------===//

#include "passes/MemoryPlan.h"
#include "frontend/Frontend.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace nn;

namespace {

/// Every examples/*.nn file, sorted.
std::vector<std::string> examplePaths() {
  std::vector<std::string> paths;
  for (const auto &e : std::filesystem::directory_iterator(
           std::string(NNC_SOURCE_DIR) + "/examples"))
    if (e.path().extension() == ".nn")
      paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

Graph compileExample(const std::string &path, Stage stage) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  DiagEngine diags;
  diags.addSource(path, ss.str());
  std::optional<Model> m = parseModel(path, ss.str(), diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  return runPipeline(m->graph, m->recipe, stage, {}, diags);
}

/// Checks every property of a plan that the emitter relies on; returns the
/// sum of all buffer sizes.
int64_t checkPlan(const Graph &g, const MemoryPlan &plan, int64_t batch) {
  SCOPED_TRACE(g.name + " at batch " + std::to_string(batch));
  EXPECT_EQ(plan.maxBatch, batch);
  EXPECT_EQ(plan.arenaBytes % kArenaAlign, 0);
  EXPECT_EQ(plan.offset.size(), g.nodes.size());
  EXPECT_EQ(plan.bytes.size(), g.nodes.size());
  std::vector<LiveRange> live = liveRanges(g);
  int64_t total = 0;
  for (NodeId i = 0; i < g.size(); ++i) {
    if (!inArena(g, i)) {
      EXPECT_TRUE(hasTrait(g[i].op, kLeaf));
      EXPECT_EQ(plan.offset[i], -1) << "leaf " << i;
      EXPECT_EQ(plan.bytes[i], 0) << "leaf " << i;
      continue;
    }
    EXPECT_EQ(plan.bytes[i], g[i].type.numel(batch) * 4) << "node " << i;
    EXPECT_GE(plan.offset[i], 0) << "node " << i;
    EXPECT_EQ(plan.offset[i] % kArenaAlign, 0) << "node " << i;
    EXPECT_LE(plan.offset[i] + plan.bytes[i], plan.arenaBytes) << "node " << i;
    total += plan.bytes[i];
  }
  // Every output and update value is live to the end.
  for (const Output &o : g.outputs)
    EXPECT_EQ(live[o.node].last, g.size()) << o.name;
  for (const Update &u : g.updates)
    EXPECT_EQ(live[u.value].last, g.size());
  // Exhaustively: buffers live at a common step never overlap. Operands are
  // live at their user's step, so a result never overlaps its operands.
  for (NodeId i = 0; i < g.size(); ++i) {
    if (!inArena(g, i))
      continue;
    for (NodeId in : g[i].inputs)
      EXPECT_GE(live[in].last, i);
    for (NodeId j = i + 1; j < g.size(); ++j) {
      if (!inArena(g, j))
        continue;
      bool together =
          live[i].first <= live[j].last && live[j].first <= live[i].last;
      bool overlap = plan.offset[i] < plan.offset[j] + plan.bytes[j] &&
                     plan.offset[j] < plan.offset[i] + plan.bytes[i];
      EXPECT_FALSE(together && overlap)
          << "nodes " << i << " and " << j << " share bytes while both live";
    }
  }
  return total;
}

TEST(MemoryPlan, EveryExampleAtSeveralBatchSizes) {
  std::vector<std::string> paths = examplePaths();
  ASSERT_GE(paths.size(), 3u);
  for (const std::string &path : paths) {
    SCOPED_TRACE(path);
    for (Stage stage :
         {Stage::Forward, Stage::Grad, Stage::Opt, Stage::Fused}) {
      Graph g = compileExample(path, stage);
      ASSERT_GT(g.size(), 0);
      for (int64_t batch : {1, 3, 64, 1000}) {
        MemoryPlan plan = planMemory(g, batch);
        checkPlan(g, plan, batch);
      }
    }
  }
}

TEST(MemoryPlan, ReuseHappensOnMnist) {
  Graph g = compileExample(
      std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn", Stage::Opt);
  MemoryPlan plan = planMemory(g, 64);
  int64_t total = checkPlan(g, plan, 64);
  EXPECT_LT(plan.arenaBytes, total);
  // Some two buffers share an offset.
  std::set<int64_t> offsets;
  int buffers = 0;
  for (NodeId i = 0; i < g.size(); ++i)
    if (plan.offset[i] >= 0) {
      offsets.insert(plan.offset[i]);
      ++buffers;
    }
  EXPECT_LT(static_cast<int>(offsets.size()), buffers);
}

/// A graph with one input [N, width] and nodes built by `ops`.
Node typed(OpKind op, std::vector<NodeId> in, std::vector<int64_t> dims) {
  Node n = makeNode(op, std::move(in));
  n.type = TensorType::of(std::move(dims));
  return n;
}

TEST(MemoryPlan, ChainUsesTwoBuffers) {
  // x -> a -> b -> c -> d (output): each value dies once its user runs, so
  // two 64-float buffers take turns.
  Graph g;
  g.name = "chain";
  Node x = typed(OpKind::Input, {}, {kBatch, 16});
  x.name = "x";
  NodeId v = g.add(x);
  for (int i = 0; i < 4; ++i)
    v = g.add(typed(OpKind::Relu, {v}, {kBatch, 16}));
  g.outputs.push_back({"out", v});
  MemoryPlan plan = planMemory(g, 4);
  checkPlan(g, plan, 4);
  EXPECT_EQ(plan.arenaBytes, 2 * 64 * 4);
  EXPECT_EQ(plan.offset[1], plan.offset[3]);
  EXPECT_EQ(plan.offset[2], plan.offset[4]);
  EXPECT_NE(plan.offset[1], plan.offset[2]);
}

TEST(MemoryPlan, OutputsAndUpdatesLiveToTheEnd) {
  // a is an output computed first; everything after must avoid it.
  Graph g;
  g.name = "outs";
  Node x = typed(OpKind::Input, {}, {kBatch, 16});
  x.name = "x";
  NodeId xi = g.add(x);
  NodeId a = g.add(typed(OpKind::Relu, {xi}, {kBatch, 16}));
  NodeId b = g.add(typed(OpKind::Exp, {xi}, {kBatch, 16}));
  NodeId c = g.add(typed(OpKind::Neg, {b}, {kBatch, 16}));
  NodeId d = g.add(typed(OpKind::Neg, {c}, {kBatch, 16}));
  Node p = typed(OpKind::Param, {}, {16});
  p.name = "p";
  NodeId pi = g.add(p);
  NodeId u = g.add(typed(OpKind::Neg, {pi}, {16}));
  NodeId e = g.add(typed(OpKind::Neg, {d}, {kBatch, 16}));
  NodeId f = g.add(typed(OpKind::Neg, {e}, {kBatch, 16}));
  g.outputs.push_back({"a", a});
  g.outputs.push_back({"f", f});
  g.updates.push_back({pi, u});
  MemoryPlan plan = planMemory(g, 8);
  checkPlan(g, plan, 8);
  std::vector<LiveRange> live = liveRanges(g);
  EXPECT_EQ(live[a].last, g.size());
  EXPECT_EQ(live[u].last, g.size());
  EXPECT_EQ(live[b].last, c);
  for (NodeId n : {b, c, d, e, f})
    EXPECT_NE(plan.offset[n], plan.offset[a]);
  for (NodeId n : {e, f})
    EXPECT_NE(plan.offset[n], plan.offset[u]);
}

TEST(MemoryPlan, BestFitPicksTheSmallestFreeBlock) {
  // big (4 KiB) and small (256 B) are freed at the same step; the next
  // 256-byte value goes into small's block, not big's.
  Graph g;
  g.name = "bestfit";
  Node x = typed(OpKind::Input, {}, {64});
  x.name = "x";
  NodeId xi = g.add(x);
  NodeId big = g.add(typed(OpKind::Exp, {xi}, {1024})); // 4096 B
  NodeId sep = g.add(typed(OpKind::Exp, {xi}, {64}));   // keeps them apart
  NodeId small = g.add(typed(OpKind::Exp, {xi}, {64})); // 256 B
  NodeId s1 = g.add(typed(OpKind::Sum, {big}, {}));
  NodeId s2 = g.add(typed(OpKind::Sum, {small}, {}));
  NodeId next = g.add(typed(OpKind::Neg, {sep}, {64})); // 256 B
  g.outputs.push_back({"s1", s1});
  g.outputs.push_back({"s2", s2});
  g.outputs.push_back({"next", next});
  MemoryPlan plan = planMemory(g, 1);
  checkPlan(g, plan, 1);
  EXPECT_EQ(plan.offset[next], plan.offset[small]);
}

TEST(MemoryPlan, RandomGraphsNeverOverlap) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    Graph g;
    g.name = "random" + std::to_string(trial);
    Node x = typed(OpKind::Input, {}, {kBatch, 8});
    x.name = "x";
    g.add(x);
    int n = 2 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::vector<int64_t> dims = {kBatch,
                                   1 + static_cast<int64_t>(rng() % 300)};
      if (rng() % 4 == 0)
        dims = {1 + static_cast<int64_t>(rng() % 50)};
      NodeId a = static_cast<NodeId>(rng() % g.size());
      NodeId b = static_cast<NodeId>(rng() % g.size());
      g.add(rng() % 2 ? typed(OpKind::Add, {a, b}, dims)
                      : typed(OpKind::Relu, {a}, dims));
      if (rng() % 7 == 0)
        g.outputs.push_back({"o" + std::to_string(i), g.size() - 1});
    }
    g.outputs.push_back({"last", g.size() - 1});
    for (int64_t batch : {1, 7}) {
      MemoryPlan plan = planMemory(g, batch);
      int64_t total = checkPlan(g, plan, batch);
      // The arena never needs more than every buffer padded side by side.
      EXPECT_LE(plan.arenaBytes, total + g.size() * kArenaAlign);
    }
  }
}

TEST(MemoryPlan, PrintsArenaAndEveryNode) {
  Graph g = compileExample(
      std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn", Stage::Opt);
  MemoryPlan plan = planMemory(g, 64);
  std::string text = printMemoryPlan(g, plan);
  std::string arena = std::to_string(plan.arenaBytes);
  EXPECT_NE(text.find("memplan mnist_mlp (max batch 64): arena "),
            std::string::npos)
      << text;
  // fc1.matmul is [64,128] f32: 32768 bytes, live from its step.
  NodeId mm = -1;
  for (NodeId i = 0; i < g.size(); ++i)
    if (g[i].name == "fc1.matmul")
      mm = i;
  ASSERT_GE(mm, 0);
  EXPECT_NE(text.find("%fc1.matmul"), std::string::npos);
  EXPECT_NE(text.find("@" + std::to_string(plan.offset[mm]) + " "),
            std::string::npos);
  EXPECT_NE(text.find("32768 B"), std::string::npos);
  EXPECT_NE(text.find("bound by the executor"), std::string::npos);
  // One line per node, plus the header and the total.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), g.size() + 2);
}

} // namespace
