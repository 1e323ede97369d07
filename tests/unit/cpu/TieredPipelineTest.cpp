//===- TieredPipelineTest.cpp - Light pipeline for cheap kernels ----------===//
///
/// \file
/// At -O2 only the GEMM kernels get LLVM's full pipeline; the others skip
/// its expensive optional passes (codegen/cpu/Pipeline.h), for compile time.
/// The step must compute the same bits either way, fused and unfused, SGD
/// and Adam; every kernel the full pipeline vectorizes is still vectorized;
/// the GEMM micro-kernel does get the full pipeline.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include <cstring>
#include <regex>

using namespace nn;
using namespace nn::test;

namespace {

CpuOptions fullEverywhere() {
  CpuOptions o;
  o.tieredPipeline = false;
  return o;
}

TEST(CpuTieredPipeline, SameBitsAsTheFullPipeline) {
  for (const char *example : {"mnist_mlp.nn", "mnist_adam.nn"})
    for (Stage stage : {Stage::Fused, Stage::Opt}) {
      Model m = loadExample(example, stage);
      const Graph &g = m.graph;
      int64_t batch = 37; // partial tiles and vector remainders
      MemoryPlan plan = planMemory(g, batch);
      auto tiered = compileCpu(g, plan, {});
      auto full = compileCpu(g, plan, fullEverywhere());
      ValueMap leaves = randomLeaves(g, batch, 5);
      auto want = resultBits(g, *full, leaves, batch);
      auto got = resultBits(g, *tiered, leaves, batch);
      ASSERT_EQ(got.size(), want.size());
      for (const auto &[name, bits] : want)
        EXPECT_TRUE(got.at(name) == bits)
            << example << (stage == Stage::Fused ? " fused: " : " unfused: ")
            << name << " differs";
    }
}

/// The body of function `name` in `ir` ("" when absent), without its
/// signature (whose attribute group numbers are the module's) and with its
/// metadata references as `!N` (their numbers are the module's too: they
/// count the metadata of every function before this one).
std::string functionText(const std::string &ir, const std::string &name) {
  size_t at = ir.find("void @" + name + "(");
  if (at == std::string::npos)
    return "";
  at = ir.find("{\n", at);
  static const std::regex metadataRef("![0-9]+");
  return std::regex_replace(ir.substr(at, ir.find("\n}\n", at) - at),
                            metadataRef, "!N");
}

/// The names of the functions `ir` defines.
std::vector<std::string> definedFunctions(const std::string &ir) {
  std::vector<std::string> names;
  for (size_t at = ir.find("\ndefine "); at != std::string::npos;
       at = ir.find("\ndefine ", at + 1)) {
    size_t name = ir.find(" @", at) + 2;
    names.push_back(ir.substr(name, ir.find('(', name) - name));
  }
  return names;
}

bool hasVectorMath(const std::string &body) {
  return body.find(" x float>") != std::string::npos;
}

TEST(CpuTieredPipeline, LightKernelsAreStillVectorized) {
  // Every function with vector arithmetic after the full pipeline has it
  // after the tiered one (the full one may unroll a vectorized loop fully,
  // so the loops themselves are not counted).
  for (Stage stage : {Stage::Fused, Stage::Opt}) {
    Model m = loadExample("mnist_mlp.nn", stage);
    MemoryPlan plan = planMemory(m.graph, 64);
    std::string tiered = emitLlvmText(m.graph, plan, true, {});
    std::string full = emitLlvmText(m.graph, plan, true, fullEverywhere());
    int vectorized = 0;
    for (const std::string &f : definedFunctions(full)) {
      if (!hasVectorMath(functionText(full, f)))
        continue;
      ++vectorized;
      EXPECT_TRUE(hasVectorMath(functionText(tiered, f)))
          << f << (stage == Stage::Fused ? " (fused)" : " (unfused)");
    }
    EXPECT_GT(vectorized, 5);
  }
  // An unfused relu is a light kernel: its loop is vectorized (8 or 16
  // lanes, by the host).
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  std::string relu = functionText(
      emitLlvmText(m.graph, planMemory(m.graph, 64), true, {}), "fc1_relu");
  ASSERT_FALSE(relu.empty());
  EXPECT_NE(relu.find("vector.body"), std::string::npos) << relu;
}

TEST(CpuTieredPipeline, MicroKernelGetsTheFullPipeline) {
  // The full pipeline unrolls the micro-kernel's remainder loops and
  // rewrites its induction variables; the light one would not: the
  // optimized micro-kernel is the same text either way.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  MemoryPlan plan = planMemory(m.graph, 64);
  std::string tiered = emitLlvmText(m.graph, plan, true, {});
  std::string full = emitLlvmText(m.graph, plan, true, fullEverywhere());
  // Its name says its tile (nnc_gemm_6x16, ...).
  size_t at = tiered.find("void @nnc_gemm");
  ASSERT_NE(at, std::string::npos);
  std::string gemm = tiered.substr(at + 6, tiered.find('(', at) - at - 6);
  std::string a = functionText(tiered, gemm), b = functionText(full, gemm);
  ASSERT_FALSE(a.empty()) << gemm;
  EXPECT_EQ(a, b) << gemm;
  // A light kernel's is not: the full pipeline unrolls more.
  EXPECT_NE(functionText(tiered, "fc1_fused_dense"),
            functionText(full, "fc1_fused_dense"));
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
