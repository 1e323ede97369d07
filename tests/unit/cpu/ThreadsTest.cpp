//===- ThreadsTest.cpp - Parallel kernels give the same bits --------------===//
///
/// \file
/// The CPU backend splits matrix products by column panels and flat loops
/// by ranges between the pool's threads. Each element is computed by one
/// task in an order that does not depend on the split, so a training step
/// must give bit-identical outputs and updates with 1, 2, 3 and 5 threads,
/// fused and unfused, at batch sizes that leave partial panels and tiles.
/// Also the pool itself: every part of a job runs exactly once.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/ThreadPool.h"

#include <atomic>
#include <cstring>

using namespace nn;
using namespace nn::test;

namespace {

struct RestoreThreads {
  int saved = cpuThreads();
  ~RestoreThreads() { setCpuThreads(saved); }
};

TEST(CpuThreads, StepIsBitIdenticalForAnyThreadCount) {
  RestoreThreads restore;
  for (Stage stage : {Stage::Fused, Stage::Opt})
    for (int64_t batch : {64, 37}) {
      Model m = loadExample("mnist_mlp.nn", stage);
      const Graph &g = m.graph;
      MemoryPlan plan = planMemory(g, batch);
      std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
      ValueMap leaves = randomLeaves(g, batch, 11);
      setCpuThreads(1);
      auto want = resultBits(g, *prog, leaves, batch);
      for (int threads : {2, 3, 5}) {
        setCpuThreads(threads);
        for (int rep = 0; rep < 3; ++rep) {
          auto got = resultBits(g, *prog, leaves, batch);
          ASSERT_EQ(got.size(), want.size());
          for (const auto &[name, w] : want)
            EXPECT_TRUE(got.at(name) == w)
                << name << " differs with " << threads << " threads (batch "
                << batch << (stage == Stage::Fused ? ", fused)" : ")");
        }
      }
    }
}

TEST(CpuThreads, StepCompiledInPartsGivesTheSameBits) {
  // The JIT compiles a module split into parts on several threads; the
  // parts are linked back together, and the code computes the same bits.
  for (Stage stage : {Stage::Fused, Stage::Opt}) {
    Model m = loadExample("mnist_mlp.nn", stage);
    const Graph &g = m.graph;
    MemoryPlan plan = planMemory(g, 64);
    std::vector<CpuEntry> entries{CpuEntry{&g, &plan, cpuStepSymbol(g)}};
    std::string whole = compileCpuObject(entries, {}, 1);
    std::string parts = compileCpuObject(entries, {}, 3);
    EXPECT_EQ(whole.compare(0, 4, "\x7f" "ELF"), 0);
    EXPECT_EQ(parts.compare(0, 8, "NNCOBJS\n"), 0);
    ValueMap leaves = randomLeaves(g, 64, 3);
    auto a = resultBits(g, *loadCpuObject(g, plan, whole), leaves, 64);
    auto b = resultBits(g, *loadCpuObject(g, plan, parts), leaves, 64);
    ASSERT_EQ(a.size(), b.size());
    for (const auto &[name, bits] : a)
      EXPECT_TRUE(b.at(name) == bits) << name;
  }
}

std::atomic<int> hits[64];

void countPart(void *ctx, int64_t part, int64_t parts) {
  ASSERT_LT(part, parts);
  hits[part].fetch_add(1);
  *static_cast<std::atomic<int64_t> *>(ctx) += parts;
}

TEST(CpuThreads, EveryPartRunsOnce) {
  RestoreThreads restore;
  for (int threads : {1, 2, 4}) {
    setCpuThreads(threads);
    // Many short jobs whose part counts go up and down: a worker still
    // leaving one job must not claim a part of the next.
    for (int job = 0; job < 20000; ++job) {
      for (auto &h : hits)
        h = 0;
      std::atomic<int64_t> seen{0};
      int64_t maxParts = job % 2 ? 1 + job % 5 : 1 + job % 19;
      nnc_parallel_for(countPart, &seen, maxParts, kMinParallelWork);
      int64_t parts =
          threads == 1 ? 1
                       : std::min<int64_t>(maxParts, kPartsPerThread * threads);
      for (int64_t p = 0; p < 64; ++p)
        ASSERT_EQ(hits[p].load(), p < parts ? 1 : 0)
            << "part " << p << " of job " << job << ", " << threads
            << " threads";
      ASSERT_EQ(seen.load(), parts * parts);
    }
    // Small jobs run on the caller alone, as one part.
    for (auto &h : hits)
      h = 0;
    std::atomic<int64_t> seen{0};
    nnc_parallel_for(countPart, &seen, 8, kMinParallelWork - 1);
    EXPECT_EQ(hits[0].load(), 1);
    EXPECT_EQ(seen.load(), 1);
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
