//===- CudaSpatialTest.cpp - The spatial kernels in CUDA, no GPU needed ---===//
///
/// \file
/// The CUDA kernels of every spatial op (ir/Ops.def, NN_SPATIAL) and
/// reshape, run by the host emulator against the interpreter on the graphs
/// of SpatialGraphs.h (small odd shapes: stride 2, padding, dilation,
/// groups, 5 x 5 and non-square kernels, each with and without an
/// activation): the convolutions both as implicit GEMMs and as direct
/// loops, on small and big tiles (the same bits) and in TF32; pooling with
/// ties; the channel ops with running statistics (buffers) updated by the
/// step. NVRTC compiles every kernel for sm_90 (skipped in builds without
/// NVRTC), the convolutions without spills.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CudaTestUtil.h"
#include "SpatialGraphs.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"
#include "ir/Support.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

/// One step of `g` on the emulator against the interpreter.
void checkStep(const Graph &g, int64_t batch, const std::string &what,
               const CudaPrintOptions &opts = {}) {
  ValueMap leaves = randomLeaves(g, batch, 11);
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaSource src = printCuda(g, opts);
  CudaEmulator emu(src);
  TensorMap state = toTensors(leaves, g, true);
  TensorMap out = emu.runStep(g, state, toTensors(leaves, g, false));
  ASSERT_EQ(out.size(), want.outputs.size()) << what;
  for (const auto &[name, v] : want.outputs)
    expectClose(out.at(name), v, 1e-4, what + ": output " + name);
  for (const auto &[name, v] : want.updates)
    expectClose(state.at(name), v, 1e-4, what + ": update of " + name);
}

/// The kernel of output `name` of `g`.
const CudaKernel &kernelOf(const Graph &g, const CudaSource &src,
                           const std::string &name) {
  const CudaKernel *k = src.kernelOf(*g.output(name));
  NN_ASSERT(k, "no kernel for " + name);
  return *k;
}

} // namespace

TEST(CudaSpatial, ConvolutionsMatchTheInterpreter) {
  NEED_FIBERS();
  for (const ConvCase &cc : convCases()) {
    Graph g = convGraph(cc);
    CudaPrintOptions direct;
    direct.directConv = true;
    checkStep(g, 3, cc.what + ", implicit GEMM");
    checkStep(g, 3, cc.what + ", direct", direct);
  }
}

TEST(CudaSpatial, GroupsOfOneAreGemmsOthersDirect) {
  for (const ConvCase &cc : convCases()) {
    Graph g = convGraph(cc);
    CudaSource src = printCuda(g);
    bool gemm = cc.win.groups == 1;
    for (const char *name : {"y", "plain", "dx", "dw"})
      EXPECT_EQ(kernelOf(g, src, name).launch == CudaLaunchKind::Gemm, gemm)
          << cc.what << ": " << name;
    if (!gemm) {
      EXPECT_EQ(kernelOf(g, src, "y").launch, CudaLaunchKind::Elements);
      EXPECT_EQ(kernelOf(g, src, "dx").launch, CudaLaunchKind::Elements);
      // One block per weight: 6 x 1 x 1 x 3 (depthwise) or 6 x 2 x 5 x 5.
      const CudaKernel &dw = kernelOf(g, src, "dw");
      EXPECT_EQ(dw.launch, CudaLaunchKind::Rows);
      EXPECT_EQ(cudaLaunchDims(dw, 3).grid,
                static_cast<unsigned>(g[*g.output("dw")].type.numel()));
    }
    // The bias gradient: one block per channel.
    const CudaKernel &db = kernelOf(g, src, "db");
    EXPECT_EQ(db.launch, CudaLaunchKind::Rows);
    EXPECT_EQ(cudaLaunchDims(db, 3).grid, static_cast<unsigned>(cc.o));
  }
}

TEST(CudaSpatial, ConvGemmBigTilesGiveTheSmallTilesBits) {
  NEED_FIBERS();
  for (const ConvCase &cc : convCases()) {
    if (cc.win.groups != 1)
      continue;
    Graph g = convGraph(cc);
    CudaPrintOptions small, big;
    small.splitK = big.splitK = false; // (split sums add in another order)
    big.bigTileMin = 0;
    CudaSource a = printCuda(g, small), b = printCuda(g, big);
    CudaEmulator ea(a), eb(b);
    int bigLaunches = 0;
    for (const CudaKernel &k : b.kernels)
      bigLaunches += cudaLaunchDims(k, 5).big;
    EXPECT_EQ(bigLaunches, 4) << cc.what; // y, plain, dx, dw
    ValueMap leaves = randomLeaves(g, 5, 3);
    TensorMap sa = toTensors(leaves, g, true), sb = sa;
    TensorMap oa = ea.runStep(g, sa, toTensors(leaves, g, false));
    TensorMap ob = eb.runStep(g, sb, toTensors(leaves, g, false));
    for (const auto &[name, t] : oa) {
      size_t differ = 0;
      for (size_t e = 0; e < t.data.size(); ++e)
        differ += std::memcmp(&t.data[e], &ob.at(name).data[e],
                              sizeof(float)) != 0;
      EXPECT_EQ(differ, 0u) << cc.what << ": " << name;
    }
  }
}

TEST(CudaSpatial, Tf32ConvolutionsAreCloseInNorm) {
  NEED_FIBERS();
  // The implicit GEMMs on emulated tensor cores: within TF32's precision
  // of the interpreter, and not the fp32 bits.
  Graph g = convGraph(convCases()[0]);
  ValueMap leaves = randomLeaves(g, 4, 5);
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaPrintOptions tf32;
  tf32.tf32 = true;
  CudaSource a = printCuda(g), b = printCuda(g, tf32);
  CudaEmulator ea(a), eb(b);
  TensorMap sa = toTensors(leaves, g, true), sb = sa;
  TensorMap oa = ea.runStep(g, sa, toTensors(leaves, g, false));
  TensorMap ob = eb.runStep(g, sb, toTensors(leaves, g, false));
  for (const char *name : {"y", "plain", "dx", "dw"}) {
    const Value &w = want.outputs.at(name);
    double diff = 0, norm = 0;
    bool differs = false;
    for (size_t i = 0; i < w.data.size(); ++i) {
      double d = ob.at(name).data[i] - w.data[i];
      diff += d * d;
      norm += w.data[i] * w.data[i];
      differs |= oa.at(name).data[i] != ob.at(name).data[i];
    }
    EXPECT_LE(std::sqrt(diff), 1e-2 * std::sqrt(norm)) << name;
    EXPECT_TRUE(differs) << name << ": TF32 gave the fp32 bits";
  }
}

TEST(CudaSpatial, PoolingMatchesTheInterpreter) {
  NEED_FIBERS();
  Graph g = poolGraph();
  checkStep(g, 3, "pooling");
  checkStep(g, 1, "pooling, batch 1");
}

TEST(CudaSpatial, ChannelOpsAndRunningStatisticsMatchTheInterpreter) {
  NEED_FIBERS();
  Graph g = channelGraph();
  // 5 x 9 x 11 = 495 elements per channel: threads add two or one.
  checkStep(g, 5, "channels");
  checkStep(g, 2, "channels, batch 2");
  CudaSource src = printCuda(g);
  for (const char *name : {"mean", "var", "xh", "bn_grad", "sum"}) {
    const CudaKernel &k = kernelOf(g, src, name);
    EXPECT_EQ(k.launch, CudaLaunchKind::Rows) << name;
    EXPECT_EQ(cudaLaunchDims(k, 5).grid, 4u) << name;
  }
}

TEST(CudaSpatial, NvrtcCompilesEveryKernelForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-spatial-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  std::vector<std::pair<std::string, Graph>> graphs = {
      {"pool", poolGraph()}, {"channels", channelGraph()}};
  for (const ConvCase &cc : convCases())
    graphs.push_back({cc.what, convGraph(cc)});
  CudaPrintOptions plain, direct, tf32;
  direct.directConv = true;
  tf32.tf32 = true;
  for (const auto &[name, g] : graphs)
    for (const CudaPrintOptions *po : {&plain, &direct, &tf32}) {
      std::string what = name + (po == &direct ? ", direct"
                                 : po == &tf32 ? ", tf32"
                                               : "");
      CudaSource src = printCuda(g, *po);
      CudaBinary bin;
      ASSERT_NO_THROW(bin = compileCuda(src, opts)) << what;
      for (const CudaKernel &k : src.kernels) {
        bool found = false;
        for (const KernelResources &r : bin.resources)
          if (r.kernel == k.name) {
            found = true;
            // The direct loops, pooling and channel kernels never spill.
            // A GEMM may spill one 8-byte value (next to the 64-byte frame
            // of its outlined split-K call, nn_split_add), as the dense
            // GEMMs' big tiles do; never more.
            int most = k.launch == CudaLaunchKind::Gemm ? 8 : 0;
            EXPECT_LE(r.spillStoreBytes, most)
                << what << ": " << k.name << ", " << r.registers
                << " registers";
            EXPECT_LE(r.spillLoadBytes, most) << what << ": " << k.name;
          }
        EXPECT_TRUE(found) << what << ": no ptxas report for " << k.name;
      }
    }
  std::filesystem::remove_all(dir);
}
