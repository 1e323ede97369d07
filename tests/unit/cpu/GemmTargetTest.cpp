//===- GemmTargetTest.cpp - The GEMM tile and blocks for each target -----===//
///
/// \file
/// codegen/cpu/GemmTarget.h: the tile follows the target's ISA (AVX-512:
/// 8 x 32 with 16-wide vectors; else the AVX2 6 x 16), the block sizes
/// follow the caches (fixed defaults when the cpu is pinned by name), and,
/// since every element still sums its terms in the order p = 0..k-1 with
/// one FMA per term, code built for AVX2 (x86-64-v3) and for AVX-512 (the
/// host's, on an AVX-512 host) computes the same bits.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/GemmTarget.h"
#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/ThreadPool.h"
#include "passes/MemoryPlan.h"

#include <cstring>

using namespace nn;
using namespace nn::test;
using nn::cpu::CacheSizes;
using nn::cpu::GemmTarget;
using nn::cpu::gemmTargetFor;

namespace {

TEST(GemmTarget, TileFollowsTheIsa) {
  GemmTarget avx2 = gemmTargetFor(false, nullptr);
  EXPECT_EQ(avx2.lanes, 8);
  EXPECT_EQ(avx2.kernelName(), "nnc_gemm_6x16");
  EXPECT_EQ(avx2.describe(), "avx2 6x16 kc 256 mc 96 nc 256 (defaults)");
  GemmTarget avx512 = gemmTargetFor(true, nullptr);
  EXPECT_EQ(avx512.lanes, 16);
  EXPECT_EQ(avx512.kernelName(), "nnc_gemm_8x32");
  EXPECT_EQ(avx512.nr % avx512.lanes, 0);
  EXPECT_EQ(avx512.mc % avx512.mr, 0);
  EXPECT_EQ(avx512.nc % avx512.nr, 0);
  // Within the 32 zmm registers: the accumulators, b's vectors and the
  // broadcast of a.
  EXPECT_LE(avx512.mr * (avx512.nr / 16) + avx512.nr / 16 + 1, 32);
  EXPECT_LE(avx2.mr * (avx2.nr / 8) + avx2.nr / 8 + 1, 16);
  // Narrow products keep one zmm per row; AVX2 and unknown widths keep
  // their tile.
  EXPECT_EQ(avx512.forColumns(10).kernelName(), "nnc_gemm_8x16");
  EXPECT_EQ(avx512.forColumns(16).nr, 16);
  EXPECT_EQ(avx512.forColumns(17).nr, 32);
  EXPECT_EQ(avx512.forColumns(-1).nr, 32);
  EXPECT_EQ(avx2.forColumns(10).kernelName(), "nnc_gemm_6x16");
}

TEST(GemmTarget, BlocksFollowTheCaches) {
  CacheSizes zen4{32 << 10, 1 << 20, 32 << 20};
  GemmTarget t = gemmTargetFor(true, &zen4);
  EXPECT_TRUE(t.fromCaches);
  // b's micro-panel is half of L1d: 16 KiB / (32 columns * 4 bytes).
  EXPECT_EQ(t.kc, 128);
  // a's block at most 256 KiB, whole tiles of 8 rows.
  EXPECT_EQ(t.mc, (256 << 10) / (128 * 4) / 8 * 8);
  // b's block at most 512 KiB, whole panels of 32 columns.
  EXPECT_EQ(t.nc, (512 << 10) / (128 * 4) / 32 * 32);
  // A bigger L1 gives a deeper block; tiny caches clamp to one unit.
  CacheSizes big{48 << 10, 2 << 20, 64 << 20};
  EXPECT_EQ(gemmTargetFor(false, &big).kc, 384);
  CacheSizes tiny{1 << 10, 1 << 10, 1 << 10};
  GemmTarget small = gemmTargetFor(false, &tiny);
  EXPECT_EQ(small.kc, 128);
  EXPECT_EQ(small.mc, small.mr);
  EXPECT_EQ(small.nc, small.nr);
  // Unknown sizes: the defaults.
  CacheSizes unknown{32 << 10, 0, 0};
  EXPECT_FALSE(gemmTargetFor(false, &unknown).fromCaches);
  EXPECT_EQ(gemmTargetFor(false, &unknown).kc, 256);
}

TEST(GemmTarget, PinnedCpuUsesItsIsaAndTheDefaults) {
  CpuOptions v3, v4, host;
  v3.cpu = "x86-64-v3";
  v4.cpu = "x86-64-v4";
  EXPECT_EQ(gemmTargetFor(v3).describe(),
            "avx2 6x16 kc 256 mc 96 nc 256 (defaults)");
  EXPECT_EQ(gemmTargetFor(v4).describe(),
            "avx512 8x32 kc 128 mc 112 nc 512 (defaults)");
  CacheSizes c = cpu::hostCacheSizes();
  bool known = c.l1d > 0 && c.l2 > 0 && c.l3 > 0;
  EXPECT_EQ(gemmTargetFor(host).fromCaches, known);
  EXPECT_EQ(gemmTargetFor(host).lanes,
            __builtin_cpu_supports("avx512f") ? 16 : 8);
}

TEST(GemmTarget, ChoiceIsInTheJitCacheKey) {
  // Code built for different tiles or blocks must never share a cache entry.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  MemoryPlan plan = planMemory(m.graph, 64);
  std::vector<CpuEntry> entries{{&m.graph, &plan, cpuStepSymbol(m.graph)}};
  CpuOptions v3, v4;
  v3.cpu = "x86-64-v3";
  v4.cpu = "x86-64-v4";
  std::string k3 = jitCacheKeyText(entries, v3);
  std::string k4 = jitCacheKeyText(entries, v4);
  EXPECT_NE(k3.find("\ngemm: " + gemmTargetFor(v3).describe() + "\n"),
            std::string::npos)
      << k3.substr(0, 300);
  EXPECT_NE(k4.find("\ngemm: " + gemmTargetFor(v4).describe() + "\n"),
            std::string::npos)
      << k4.substr(0, 300);
  std::string host = jitCacheKeyText(entries, {});
  EXPECT_NE(host.find(gemmTargetFor(CpuOptions{}).describe()),
            std::string::npos);
}

/// Outputs, updated leaves and every node's value of one step, as bits.
Bits stepBits(const Graph &g, const CpuOptions &opts, const ValueMap &leaves,
              int64_t batch) {
  MemoryPlan plan = planWithoutReuse(g, batch);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, opts);
  CpuRun run = runProgram(g, *prog, leaves, batch);
  Bits bits;
  for (const auto &[name, v] : run.leaves)
    putBits(bits, name, v);
  for (NodeId id = 0; id < g.size(); ++id)
    if (!hasTrait(g[id].op, kLeaf))
      putBits(bits, "%" + std::to_string(id) + " " + g[id].name,
              run.value(g, plan, id, batch));
  return bits;
}

/// Depth over several blocks, partial tiles in rows and columns.
const char *kWide = R"(model wide
input x : f32[700]
label y : class(37)
h1 = dense(x, 333, relu)
h2 = dense(h1, 100, tanh)
out = dense(h2, 37)
loss cross_entropy(softmax(out), y)
train {
  optimizer sgd(lr = 0.05, momentum = 0.9)
  batch 50
}
)";

TEST(GemmTarget, Avx2AndAvx512KernelsGiveTheSameBits) {
  if (!__builtin_cpu_supports("avx512f"))
    GTEST_SKIP() << "this host has no AVX-512: only the AVX2 kernel runs here";
  CpuOptions v3, v4, host;
  v3.cpu = "x86-64-v3";
  v4.cpu = "x86-64-v4";
  ASSERT_EQ(gemmTargetFor(host).lanes, 16);
  std::vector<std::pair<Model, int64_t>> cases;
  for (Stage stage : {Stage::Fused, Stage::Opt}) {
    cases.emplace_back(loadExample("mnist_mlp.nn", stage), 37);
    cases.emplace_back(throughPipeline(parseText("wide.nn", kWide), stage),
                       50);
  }
  for (const auto &[m, batch] : cases) {
    ValueMap leaves = randomLeaves(m.graph, batch, 5);
    auto want = stepBits(m.graph, v3, leaves, batch);
    for (const CpuOptions *o : {&v4, &host}) {
      auto got = stepBits(m.graph, *o, leaves, batch);
      ASSERT_EQ(got.size(), want.size());
      for (const auto &[name, w] : want)
        EXPECT_TRUE(got.at(name) == w)
            << m.graph.name << ": " << name << " differs between "
            << gemmTargetFor(v3).describe() << " and "
            << gemmTargetFor(*o).describe();
    }
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
