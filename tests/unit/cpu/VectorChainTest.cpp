//===- VectorChainTest.cpp - Fused chains that call libm, in vectors ------===//
///
/// \file
/// A flat fused.elementwise whose body calls libm (tanh, log1p, erf) is
/// emitted in explicit 8-lane vectors with libm called lane by lane, and a
/// scalar tail (codegen/cpu/EmitFused.cpp): LLVM leaves a loop with a call
/// scalar, and the scalar loop was slower than the unfused ops it replaced.
/// Each element still gets the same IEEE operations: the results are the
/// bits of the scalar float formula, for any thread count and tail length.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/ThreadPool.h"
#include "ir/IRParser.h"
#include "passes/InferShapes.h"

#include <cmath>

using namespace nn;
using namespace nn::test;

namespace {

const char *kChain = "graph vchain {\n"
                     "  %x = input \"x\" : f32[N,13]\n"
                     "  %s = input \"s\" : f32[N,13]\n"
                     "  %y = fused.elementwise %x, %s {body = "
                     "mul(tanh(add(mul(%0, 0.5), %1)), %0)} : f32[N,13]\n"
                     "  output y = %y\n"
                     "}\n";

struct RestoreThreads {
  int saved = cpuThreads();
  ~RestoreThreads() { setCpuThreads(saved); }
};

TEST(CpuVectorChain, LibmChainIsEmittedInVectors) {
  Graph g = parseIr(kChain);
  std::string ir = emitLlvmText(g, planMemory(g, 64), false);
  size_t at = ir.find("define internal void @y_fused_elementwise(");
  ASSERT_NE(at, std::string::npos) << ir;
  std::string body = ir.substr(at, ir.find("\n}\n", at) - at);
  EXPECT_NE(body.find("v.body:"), std::string::npos) << body;
  EXPECT_NE(body.find("load <8 x float>"), std::string::npos) << body;
  EXPECT_NE(body.find("fmul <8 x float>"), std::string::npos) << body;
  EXPECT_NE(body.find("store <8 x float>"), std::string::npos) << body;
  EXPECT_EQ(count(body, "call float @tanhf("), 8 + 1) << body; // lanes, tail
}

TEST(CpuVectorChain, EveryElementHasTheScalarFormulasBits) {
  RestoreThreads restore;
  Graph g = parseIr(kChain);
  for (int64_t batch : {37, 64, 1}) { // tails of 1, 0 and 5 elements
    ValueMap leaves = randomLeaves(g, batch, 9);
    for (const char *name : {"x", "s"})
      for (double &v : leaves[name].data)
        v = static_cast<double>(static_cast<float>(8 * v - 4));
    MemoryPlan plan = planMemory(g, 64);
    std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
    for (int threads : {1, 2, 3}) {
      setCpuThreads(threads);
      CpuRun run = runProgram(g, *prog, leaves, batch);
      std::vector<float> got = run.value(g, plan, g.outputs[0].node, batch);
      ASSERT_EQ(got.size(), static_cast<size_t>(batch * 13));
      for (size_t i = 0; i < got.size(); ++i) {
        float x = static_cast<float>(leaves["x"].data[i]);
        float s = static_cast<float>(leaves["s"].data[i]);
        float want = std::tanh(x * 0.5f + s) * x;
        ASSERT_EQ(std::memcmp(&got[i], &want, 4), 0)
            << "element " << i << " of batch " << batch << ", " << threads
            << " threads: " << got[i] << " vs " << want;
      }
    }
  }
}

TEST(CpuVectorChain, BroadcastChainHasTheScalarFormulasBits) {
  // s per column (stride 0 along the batch, 1 along the row), t one value
  // per row (stride 0 along the row: splat); rows of 19 = 2 vectors + 3.
  RestoreThreads restore;
  Graph g = parseIr("graph bchain {\n"
                    "  %x = input \"x\" : f32[N,19]\n"
                    "  %s = input \"s\" : f32[19]\n"
                    "  %t = input \"t\" : f32[N,1]\n"
                    "  %y = fused.elementwise %x, %s, %t {body = "
                    "mul(tanh(add(mul(%0, %1), %2)), %0)} : f32[N,19]\n"
                    "  output y = %y\n"
                    "}\n");
  std::string ir = emitLlvmText(g, planMemory(g, 64), false);
  EXPECT_NE(ir.find("load <8 x float>"), std::string::npos) << ir;
  for (int64_t batch : {37, 1}) {
    ValueMap leaves = randomLeaves(g, batch, 4);
    for (const char *name : {"x", "s", "t"})
      for (double &v : leaves[name].data)
        v = static_cast<double>(static_cast<float>(8 * v - 4));
    MemoryPlan plan = planMemory(g, 64);
    std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
    for (int threads : {1, 2, 3}) {
      setCpuThreads(threads);
      CpuRun run = runProgram(g, *prog, leaves, batch);
      std::vector<float> got = run.value(g, plan, g.outputs[0].node, batch);
      ASSERT_EQ(got.size(), static_cast<size_t>(batch * 19));
      for (size_t i = 0; i < got.size(); ++i) {
        float x = static_cast<float>(leaves["x"].data[i]);
        float s = static_cast<float>(leaves["s"].data[i % 19]);
        float t = static_cast<float>(leaves["t"].data[i / 19]);
        float want = std::tanh(x * s + t) * x;
        ASSERT_EQ(std::memcmp(&got[i], &want, 4), 0)
            << "element " << i << " of batch " << batch << ", " << threads
            << " threads: " << got[i] << " vs " << want;
      }
    }
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
