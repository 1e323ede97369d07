//===- NormalizeTest.cpp - layer_norm's rows on the CPU backend -----------===//
///
/// \file
/// normalize and normalize_grad compiled by the CPU backend against the
/// interpreter (1e-4 relative): rows of every width around the kernel's
/// eight double lanes (1, 3, 8, 13, 64, 300), a 3-D operand, a constant
/// row, a large mean over a small spread, two eps; at -O2 and -O0. The
/// kernels split their rows between threads: the same bits for 1, 2, 3 and
/// 5 threads. And a model with layer_norm layers (tests/unit/
/// LayerNormModel.h), unfused and with every fusion set, against the
/// interpreter, whole training steps included.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"
#include "tests/unit/LayerNormModel.h"

#include "codegen/cpu/ThreadPool.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"

#include <cstring>

using namespace nn;
using namespace nn::test;

namespace {

/// A graph of normalize(x) and normalize_grad(dy, x) for x, dy of `dims`
/// (kBatch allowed), with leaf values for `batch` rows: x uniform in
/// [center - spread, center + spread).
struct NormCase {
  Graph g;
  ValueMap leaves;
  uint64_t seed = 3;

  NodeId input(const std::string &name, const std::vector<int64_t> &dims,
               int64_t batch, double center, double spread) {
    return addRandomLeaf(g, leaves, OpKind::Input, name, dims, batch,
                         center - spread, center + spread, seed++);
  }

  NormCase(const std::vector<int64_t> &dims, int64_t batch, double eps,
           double center = 0, double spread = 2) {
    NodeId x = input("x", dims, batch, center, spread);
    NodeId dy = input("dy", dims, batch, 0, 1);
    Node n = makeNode(OpKind::Normalize, {x});
    n.param = eps;
    g.outputs.push_back({"y", g.add(n)});
    Node d = makeNode(OpKind::NormalizeGrad, {dy, x});
    d.param = eps;
    g.outputs.push_back({"dx", g.add(d)});
    g.name = "norm";
    DiagEngine diags;
    g = inferShapes(g, diags);
  }
};

struct RestoreThreads {
  int saved = cpuThreads();
  ~RestoreThreads() { setCpuThreads(saved); }
};

} // namespace

TEST(CpuNormalize, EveryWidthMatchesTheInterpreter) {
  for (int64_t width : {1, 3, 8, 13, 64, 300}) {
    NormCase c({kBatch, width}, 7, 1e-5);
    std::string what = "width " + std::to_string(width);
    checkAgainstInterpreter(c.g, c.leaves, 7, 9, 1e-4, what);
    checkAgainstInterpreter(c.g, c.leaves, 7, 7, 1e-4, what + " -O0", 0);
  }
}

TEST(CpuNormalize, ShapesAndValuesThatStressTheSums) {
  NormCase three({kBatch, 3, 21}, 4, 1e-5);
  checkAgainstInterpreter(three.g, three.leaves, 4, 4, 1e-4, "3-D");
  NormCase noBatch({5, 17}, 1, 0.25);
  checkAgainstInterpreter(noBatch.g, noBatch.leaves, 1, 1, 1e-4, "eps 0.25");
  // A mean 100 times the spread: E[x^2] - mean^2 in double is still exact
  // enough for float results.
  NormCase offset({kBatch, 40}, 6, 1e-5, 300, 3);
  checkAgainstInterpreter(offset.g, offset.leaves, 6, 6, 1e-4, "offset");
  // A constant row: variance 0, result 0 (not NaN), gradient 0.
  NormCase flat({kBatch, 12}, 3, 1e-5);
  for (double &v : flat.leaves["x"].data)
    v = 1.5;
  checkAgainstInterpreter(flat.g, flat.leaves, 3, 3, 1e-4, "constant rows");
}

TEST(CpuNormalize, RowsSplitBetweenThreadsGiveTheSameBits) {
  RestoreThreads restore;
  // 700 rows of 64: big enough to be split into several parts.
  NormCase c({kBatch, 64}, 700, 1e-5);
  MemoryPlan plan = planWithoutReuse(c.g, 700);
  std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
  auto bits = [&] {
    CpuRun run = runProgram(c.g, *prog, c.leaves, 700);
    std::vector<uint32_t> b;
    for (const Output &o : c.g.outputs) {
      std::vector<float> v = run.value(c.g, plan, o.node, 700);
      size_t at = b.size();
      b.resize(at + v.size());
      std::memcpy(b.data() + at, v.data(), v.size() * sizeof(float));
    }
    return b;
  };
  setCpuThreads(1);
  std::vector<uint32_t> want = bits();
  for (int threads : {2, 3, 5}) {
    setCpuThreads(threads);
    EXPECT_TRUE(bits() == want) << threads << " threads";
  }
}

TEST(CpuNormalize, LayerNormModelEveryFusionSetMatchesTheInterpreter) {
  Model lowered = parseText("ln.nn", layerNormModel());
  std::vector<std::optional<std::set<std::string>>> sets = {
      std::nullopt, parseFusionList("all")};
  for (const std::string &f : fusionNames())
    sets.push_back(std::set<std::string>{f});
  for (const auto &s : sets) {
    Model m = throughPipeline(lowered, s ? Stage::Fused : Stage::Opt, s);
    ASSERT_GT(m.graph.size(), 0);
    std::string label = s ? "fused {" : "unfused";
    for (const std::string &f : s.value_or(std::set<std::string>{}))
      label += f + " ";
    label += s ? "}" : "";
    ValueMap l = randomLeaves(m.graph, 11, 23);
    checkAgainstInterpreter(m.graph, l, 11, 11, 1e-4, label,
                            s && s->size() == 1 ? 1 : 2);
  }
}

#endif // NNC_HAVE_CPU_BACKEND
