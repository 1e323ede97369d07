//===- CudaNormalizeTest.cpp - layer_norm's rows in CUDA, no GPU needed ---===//
///
/// \file
/// The CUDA kernels of normalize and normalize_grad: one block per row (a
/// Rows launch, its grid the number of rows, capped), run by the host
/// emulator against the interpreter in a model with layer_norm layers
/// (tests/unit/LayerNormModel.h), unfused and fused, one step and steps
/// chained through the updated weights, and a row wider than a block;
/// NVRTC compiles them for sm_90 (skipped in builds without NVRTC).
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CudaTestUtil.h"
#include "tests/unit/LayerNormModel.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"

#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

/// The normalize and normalize_grad kernels of `src`.
std::vector<const CudaKernel *> normKernels(const Graph &g,
                                            const CudaSource &src) {
  std::vector<const CudaKernel *> ks;
  for (const CudaKernel &k : src.kernels)
    if (g[k.node].op == OpKind::Normalize ||
        g[k.node].op == OpKind::NormalizeGrad)
      ks.push_back(&k);
  return ks;
}

} // namespace

TEST(CudaNormalize, OneBlockPerRow) {
  Model m = loadModelText("ln.nn", test::layerNormModel(), Stage::Opt);
  CudaSource src = printCuda(m.graph);
  std::vector<const CudaKernel *> ks = normKernels(m.graph, src);
  ASSERT_EQ(ks.size(), 4u); // n1, n2 and their gradients
  for (const CudaKernel *k : ks) {
    EXPECT_EQ(k->launch, CudaLaunchKind::Rows) << k->name;
    EXPECT_EQ(cudaLaunchDims(*k, 37).grid, 37u) << k->name;
    EXPECT_EQ(cudaLaunchDims(*k, 0).grid, 0u) << k->name;
  }
  CudaKernel big = *ks[0];
  EXPECT_EQ(cudaLaunchDims(big, int64_t(1) << 40).grid,
            static_cast<unsigned>(kCudaMaxRowBlocks));
  EXPECT_NE(src.code.find("nn_block_sum(sx)"), std::string::npos);
}

TEST(CudaNormalize, LayerNormModelMatchesTheInterpreter) {
  NEED_FIBERS();
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = loadModelText("ln.nn", test::layerNormModel(), stage);
    expectEmulatedStep(m.graph, 19, stage == Stage::Opt ? "unfused" : "fused");
  }
}

TEST(CudaNormalize, RowsWiderThanABlock) {
  NEED_FIBERS();
  // 300 > 256 threads: some threads add two elements of the row.
  std::string text = "model wide\ninput x : f32[300]\nlabel y : class(3)\n"
                     "n = layer_norm(x * 3 + 1)\nout = dense(n, 3)\n"
                     "loss cross_entropy(softmax(out), y)\n"
                     "train { data csv(\"d.csv\", label = \"y\") optimizer "
                     "sgd(lr = 0.1) batch 4 epochs 1 }\n";
  Model m = loadModelText("wide.nn", text, Stage::Fused);
  expectEmulatedStep(m.graph, 3, "300 wide");
}

TEST(CudaNormalize, ChainedStepsEndWithTheInterpretersWeights) {
  NEED_FIBERS();
  Model m = loadModelText("ln.nn", test::layerNormModel(), Stage::Fused);
  const Graph &g = m.graph;
  auto [state, want] = chainedSteps(g, 16, 4);
  for (const char *p : {"n1.weight", "n1.bias", "n2.weight", "n2.bias"})
    expectClose(state.at(p), want.at(p), 1e-3, std::string("after 4: ") + p);
}

TEST(CudaNormalize, NvrtcCompilesTheKernelsForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-ln-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = loadModelText("ln.nn", test::layerNormModel(), stage);
    CudaSource src = printCuda(m.graph);
    CudaBinary bin;
    ASSERT_NO_THROW(bin = compileCuda(src, opts));
    for (const CudaKernel *k : normKernels(m.graph, src)) {
      bool found = false;
      for (const KernelResources &r : bin.resources)
        found |= r.kernel == k->name;
      EXPECT_TRUE(found) << "no ptxas report for " << k->name;
    }
  }
  std::filesystem::remove_all(dir);
}
