//===- SideBySideTest.cpp - Independent kernels in one parallel job -------===//
///
/// \file
/// Two split kernels that follow each other and do not depend on each other
/// run as one job of the thread pool (codegen/cpu/EmitSideBySide.cpp): the
/// entry point pairs them only when neither writes a buffer the other reads
/// or writes (the memory plan may put one's result where the other's operand
/// lies), and a paired step computes the interpreter's values, with the same
/// bits for every thread count.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/SideBySide.h"
#include "codegen/cpu/ThreadPool.h"
#include "ir/IRParser.h"
#include "passes/InferShapes.h"

using namespace nn;
using namespace nn::test;

namespace {

/// Two products of x; the second reads `b_reads` (x: independent of the
/// first; a: its result).
std::string twoProducts(const std::string &bReads) {
  return "graph two {\n"
         "  %x = input \"x\" : f32[N,64]\n"
         "  %w1 = param \"w1\" {init = zeros} : f32[64,64]\n"
         "  %w2 = param \"w2\" {init = zeros} : f32[64,48]\n"
         "  %a = matmul %x, %w1 : ?\n"
         "  %b = matmul %" +
         bReads +
         ", %w2 : ?\n"
         "  output a = %a\n"
         "  output b = %b\n"
         "}\n";
}

struct RestoreThreads {
  int saved = cpuThreads();
  ~RestoreThreads() { setCpuThreads(saved); }
};

TEST(CpuSideBySide, IndependentProductsRunAsOneJob) {
  Graph g = parseIr(twoProducts("x"));
  std::string ir = emitLlvmText(g, planMemory(g, 64), false);
  // Its parts: both products' tasks added (row groups x column panels,
  // known when the batch is: codegen/cpu/GemmTarget.h).
  EXPECT_NE(ir.find("call void %parallel_for(ptr @pair_a_matmul_b_matmul, "
                    "ptr %pair, i64 %"),
            std::string::npos)
      << ir;
  // --profile times each kernel, and the option is off: no pairs.
  CpuOptions profile, apart;
  profile.profile = true;
  apart.sideBySide = false;
  for (const CpuOptions &o : {profile, apart})
    EXPECT_EQ(emitLlvmText(g, planMemory(g, 64), false, o).find("@pair_"),
              std::string::npos);
}

TEST(CpuSideBySide, DependentProductsRunOneAfterTheOther) {
  Graph g = parseIr(twoProducts("a"));
  std::string ir = emitLlvmText(g, planMemory(g, 64), false);
  EXPECT_EQ(ir.find("@pair_"), std::string::npos) << ir;
}

TEST(CpuSideBySide, PairedStepMatchesTheInterpreterWithSameBits) {
  RestoreThreads restore;
  Graph g = parseIr(twoProducts("x"));
  ValueMap leaves = randomLeaves(g, 37, 7);
  for (const char *w : {"w1", "w2"})
    for (double &v : leaves[w].data)
      v = static_cast<double>(static_cast<float>(v - 0.5));
  std::vector<float> first;
  for (int threads : {1, 2, 3, 5}) {
    setCpuThreads(threads);
    checkAgainstInterpreter(g, leaves, 37, 64, 1e-5,
                            std::to_string(threads) + " threads");
    MemoryPlan plan = planMemory(g, 64);
    std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
    CpuRun run = runProgram(g, *prog, leaves, 37);
    std::vector<float> got = run.value(g, plan, g.outputs[0].node, 37);
    std::vector<float> b = run.value(g, plan, g.outputs[1].node, 37);
    got.insert(got.end(), b.begin(), b.end());
    if (first.empty())
      first = got;
    EXPECT_EQ(std::memcmp(first.data(), got.data(), got.size() * 4), 0)
        << threads << " threads";
  }
}

/// A plan of `n` nodes, node i at offsets[i] with 256 bytes (-1: none).
MemoryPlan planAt(const std::vector<int64_t> &offsets) {
  MemoryPlan p;
  p.offset = offsets;
  for (int64_t o : offsets)
    p.bytes.push_back(o < 0 ? 0 : 256);
  return p;
}

TEST(CpuSideBySide, BuffersDecideWhetherTwoCallsMayOverlap) {
  // a: writes 2, reads 0 (a leaf) and 1; b: writes 3, reads 0.
  cpu::CallFootprint a, b;
  a.writes = {2};
  a.reads = {0, 1};
  b.writes = {3};
  b.reads = {0};
  EXPECT_TRUE(cpu::sideBySide(planAt({-1, 0, 256, 512}), a, b));
  // b's result where a's operand 1 lies (dead after a, so the plan may
  // reuse it), or partly over a's result: not at the same time.
  EXPECT_FALSE(cpu::sideBySide(planAt({-1, 0, 256, 0}), a, b));
  EXPECT_FALSE(cpu::sideBySide(planAt({-1, 0, 256, 384}), a, b));
  // b reads a's result.
  b.reads = {2};
  EXPECT_FALSE(cpu::sideBySide(planAt({-1, 0, 256, 512}), a, b));
  // a's result where b's operand lies.
  b.reads = {1};
  EXPECT_FALSE(cpu::sideBySide(planAt({-1, 0, 0, 512}), a, b));
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
