//===- NvrtcActivationsTest.cpp - Every activation's kernels compile ------===//
///
/// \file
/// NVRTC compiles every generated kernel of the every-activation model
/// (tests/unit/EveryActivation.h: one dense layer per activation, gelu,
/// silu, softplus and leaky_relu with its slope included), unfused and
/// fused, to a cubin for sm_90: the erff/expf/log1pf the activations and
/// their derivatives print are CUDA's. Skipped (with a message) in builds
/// without NVRTC.
///
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"
#include "tests/unit/EveryActivation.h"

#include "codegen/cuda/Nvrtc.h"

#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

TEST(CudaNvrtc, EveryActivationsKernelsCompileForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-act-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = loadModelText("every.nn", test::everyActivationModel(), stage);
    CudaSource src = printCuda(m.graph);
    CudaBinary bin;
    ASSERT_NO_THROW(bin = compileCuda(src, opts))
        << (stage == Stage::Opt ? "unfused" : "fused");
    EXPECT_EQ(bin.arch, "sm_90");
    for (const CudaKernel &k : src.kernels)
      EXPECT_NE(bin.cubin.find(k.name), std::string::npos) << k.name;
  }
  std::filesystem::remove_all(dir);
}
