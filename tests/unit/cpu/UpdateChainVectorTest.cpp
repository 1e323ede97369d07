//===- UpdateChainVectorTest.cpp - One-pass updates stay vectorized -------===//
///
/// \file
/// The optimizer kernel's one loop per parameter (codegen/cpu/EmitUpdates.cpp)
/// runs its vector body under the memory plan `nnc train` uses: mnist_mlp
/// with AdamW and with SGD momentum at the recipe's batch, where the plan
/// puts new.fc1.weight in the slot of its dead gradient. Before the loops
/// were marked llvm.loop.parallel_accesses, LLVM guarded each vector body
/// with a runtime alias check (`diff.check`) that found those pointers
/// equal and ran the scalar loop (AdamW 4.5x slower than separate loops).
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

using namespace nn;
using namespace nn::test;

namespace {

/// The optimized optimizer kernel of `optimizerLine`'s mnist_mlp.
std::string optimizedOptimizer(const std::string &optimizerLine) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn";
  std::string text = readText(path);
  size_t at = text.find("optimizer sgd(");
  EXPECT_NE(at, std::string::npos);
  if (at == std::string::npos)
    return "";
  text.replace(at, text.find('\n', at) - at, optimizerLine);
  Model m = throughPipeline(parseText(path, text), Stage::Fused);
  CpuOptions opts;
  opts.cpu = "x86-64-v3";
  std::string ir = emitLlvmText(m.graph, planMemory(m.graph, 64), true, opts);
  size_t from = ir.find("@mnist_mlp_step_optimizer(ptr");
  from = ir.rfind("define", from);
  EXPECT_NE(from, std::string::npos) << "no optimizer kernel";
  if (from == std::string::npos)
    return "";
  return ir.substr(from, ir.find("\n}\n", from) - from);
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(CpuUpdateChains, AdamLoopsNeedNoRuntimeAliasCheck) {
  std::string k =
      optimizedOptimizer("optimizer adamw(lr = 0.001, weight_decay = 0.01)");
  EXPECT_EQ(count(k, "diff.check"), 0u) << k.substr(0, 4000);
  EXPECT_EQ(count(k, "memcheck"), 0u);
  // Every parameter's m, v and w in one vector body: six sqrt of 8 floats
  // (the scalar remainder loops hold the rest).
  EXPECT_EQ(count(k, "call <8 x float> @llvm.sqrt.v8f32("), 6u);
}

TEST(CpuUpdateChains, SgdMomentumLoopsNeedNoRuntimeAliasCheck) {
  std::string k = optimizedOptimizer("optimizer sgd(lr = 0.05, momentum = 0.9)");
  EXPECT_EQ(count(k, "diff.check"), 0u) << k.substr(0, 4000);
  EXPECT_EQ(count(k, "memcheck"), 0u);
  EXPECT_GE(count(k, "store <8 x float>"), 12u);
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
