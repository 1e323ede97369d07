//===- NvrtcTest.cpp - Generated CUDA compiled by NVRTC, no GPU needed ----===//
///
/// \file
/// NVRTC compiles every generated kernel of every example (unfused step,
/// fused step; mnist_mlp with each fusion alone) to a cubin for sm_90; the
/// cubin cache hits, and rejects a damaged entry; a source NVRTC rejects is
/// reported with the kernel's name and `.nn` line and kept on disk;
/// architectures are checked; ptxas's register and spill report is read.
/// Skipped (with a message) in builds without NVRTC.
///
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"

#include "codegen/cuda/Nvrtc.h"
#include "ir/Support.h"

#include <cstdio>
#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

/// A fresh cache folder for one test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/nnc-nvrtc-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

bool isElf(const std::string &s) {
  return s.size() > 4 && s.compare(0, 4,
                                   "\x7f"
                                   "ELF") == 0;
}

TEST(CudaNvrtc, EveryKernelOfEveryExampleCompilesForSm90) {
  NEED_NVRTC();
  TempDir dir;
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir.path;
  // Each variant is compiled once (the cache is empty). Forward graphs are
  // left out: their kernels are the first kernels of the unfused steps.
  for (Variant &v : allVariants(/*forward=*/false)) {
    ASSERT_GT(v.model.graph.size(), 0) << v.what;
    CudaSource src = printCuda(v.model.graph);
    CudaBinary bin;
    ASSERT_NO_THROW(bin = compileCuda(src, opts)) << v.what;
    EXPECT_TRUE(isElf(bin.cubin)) << v.what;
    EXPECT_EQ(bin.arch, "sm_90");
    // ptxas reports every kernel and big-tile variant: each is in the
    // cubin.
    for (const CudaKernel &k : src.kernels)
      for (const std::string &name : {k.name, k.bigName}) {
        if (name.empty())
          continue;
        bool found = false;
        for (const KernelResources &r : bin.resources)
          if (r.kernel == name) {
            found = true;
            EXPECT_GT(r.registers, 0) << name;
            EXPECT_LE(r.registers, 255) << name;
          }
        EXPECT_TRUE(found) << v.what << ": no ptxas report for " << name;
        EXPECT_NE(bin.cubin.find(name), std::string::npos) << name;
      }
  }
}

TEST(CudaNvrtc, CacheHitsAndRejectsDamagedEntries) {
  NEED_NVRTC();
  TempDir dir;
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir.path;
  CudaSource src = printCuda(loadExample("xor.nn", Stage::Opt).graph);
  CudaBinary first = compileCuda(src, opts);
  EXPECT_FALSE(first.fromCache);
  ASSERT_FALSE(first.cachePath.empty());
  EXPECT_EQ(first.cachePath.rfind(dir.path, 0), 0u);
  CudaBinary second = compileCuda(src, opts);
  EXPECT_TRUE(second.fromCache);
  EXPECT_EQ(second.cubin, first.cubin);
  EXPECT_EQ(second.ptxasLog, first.ptxasLog);
  EXPECT_EQ(second.resources.size(), first.resources.size());

  // Another architecture or another source is another entry.
  opts.arch = "sm_80";
  CudaBinary other = compileCuda(src, opts);
  EXPECT_FALSE(other.fromCache);
  EXPECT_NE(other.cachePath, first.cachePath);
  opts.arch = "sm_90";

  // A truncated entry is not trusted: compiled again, and replaced.
  std::filesystem::resize_file(first.cachePath,
                               std::filesystem::file_size(first.cachePath) / 2);
  CudaBinary again = compileCuda(src, opts);
  EXPECT_FALSE(again.fromCache);
  EXPECT_EQ(again.cubin, first.cubin);
  EXPECT_TRUE(compileCuda(src, opts).fromCache);

  // --no-cache compiles and stores nothing.
  opts.noCache = true;
  CudaBinary bypass = compileCuda(src, opts);
  EXPECT_FALSE(bypass.fromCache);
  EXPECT_TRUE(bypass.cachePath.empty());
}

TEST(CudaNvrtc, CompileErrorsNameTheKernelAndKeepTheSource) {
  NEED_NVRTC();
  TempDir dir;
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir.path;
  Model m = loadExample("churn.nn", Stage::Opt);
  CudaSource src = printCuda(m.graph);
  // Break one line inside the third kernel (keeping line numbers).
  const CudaKernel &victim = src.kernels.at(2);
  size_t pos = 0;
  for (int line = 1; line < victim.firstLine + 1; ++line)
    pos = src.code.find('\n', pos) + 1;
  src.code.insert(pos, "  undefined_thing += 1; ");
  try {
    compileCuda(src, opts);
    FAIL() << "compiled a broken source";
  } catch (const InternalError &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("NVRTC"), std::string::npos) << msg;
    EXPECT_NE(msg.find("undefined_thing"), std::string::npos) << msg;
    EXPECT_NE(
        msg.find("in kernel " + victim.name + " from " + victim.loc.str()),
        std::string::npos)
        << msg;
    EXPECT_NE(msg.find(victim.nodeText), std::string::npos) << msg;
    size_t at = msg.find("the source is kept in ");
    ASSERT_NE(at, std::string::npos) << msg;
    std::string kept = msg.substr(at + 22, msg.find('\n', at) - at - 22);
    EXPECT_EQ(kept.rfind(dir.path + "/failed/churn-", 0), 0u) << kept;
    EXPECT_EQ(readText(kept), src.code);
  }
}

TEST(CudaNvrtc, ArchitecturesAreChecked) {
  NEED_NVRTC();
  std::vector<std::string> archs = nvrtcArchs();
  EXPECT_NE(std::find(archs.begin(), archs.end(), "sm_90"), archs.end());
  EXPECT_NO_THROW(checkCudaArch("sm_90"));
  for (const char *bad : {"sm_1", "sm_", "compute_90", "90", "sm_90a"}) {
    try {
      checkCudaArch(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const UserError &e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("cannot compile for '" + std::string(bad) + "'"),
                std::string::npos)
          << msg;
      EXPECT_NE(msg.find("sm_90"), std::string::npos) << msg; // the list
    }
  }
  EXPECT_FALSE(nvrtcVersion().empty());
}

TEST(CudaNvrtc, PtxAndResourceReport) {
  NEED_NVRTC();
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.noCache = true;
  std::string ptx = emitCudaText(m.graph, "ptx", opts);
  CudaSource src = printCuda(m.graph);
  EXPECT_NE(ptx.find(".target sm_90"), std::string::npos);
  for (const CudaKernel &k : src.kernels)
    EXPECT_NE(ptx.find(".entry " + k.name + "("), std::string::npos) << k.name;
  std::string sass = emitCudaText(m.graph, "sass", opts);
  for (const CudaKernel &k : src.kernels) {
    EXPECT_NE(sass.find("// " + k.name + ": "), std::string::npos) << k.name;
    if (!k.bigName.empty()) {
      EXPECT_NE(sass.find("// " + k.bigName + ": "), std::string::npos);
    }
  }
  EXPECT_NE(sass.find(" kernels (and 5 on big tiles)\n"), std::string::npos);
  EXPECT_NE(sass.find(" registers, "), std::string::npos);
  EXPECT_NE(sass.find(" bytes spill stores, "), std::string::npos);
  EXPECT_NE(sass.find("kernels spill"), std::string::npos);
}

/// ptxas's report of each big-tile variant of `src`.
std::vector<KernelResources> bigVariants(const CudaSource &src,
                                         const CudaBinary &bin) {
  std::vector<KernelResources> out;
  for (const CudaKernel &k : src.kernels)
    for (const KernelResources &r : bin.resources)
      if (!k.bigName.empty() && r.kernel == k.bigName)
        out.push_back(r);
  return out;
}

TEST(CudaNvrtc, BigTileRegisters) {
  NEED_NVRTC();
  NvrtcOptions sm90;
  sm90.arch = "sm_90";
  sm90.noCache = true;
  // The 4096-wide MLP, where every GEMM runs on big tiles: none spills.
  // (On tiny products, as churn's, ptxas may spill a few bytes.)
  Model wide = loadExample("../benchmarks/mlp4096.nn", Stage::Fused);
  CudaSource ws = printCuda(wide.graph);
  std::vector<KernelResources> wide4096 =
      bigVariants(ws, compileCuda(ws, sm90));
  EXPECT_EQ(wide4096.size(), 11u);
  for (const KernelResources &r : wide4096)
    EXPECT_EQ(r.spillStoreBytes, 0) << r.kernel;
  // __launch_bounds__(NN_BLOCK, 2) on the big variants only: ptxas keeps
  // them within 128 registers (65536 per multiprocessor / 512 threads).
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  CudaPrintOptions two;
  two.bigMinBlocks = 2;
  CudaSource src = printCuda(m.graph, two);
  EXPECT_NE(src.code.find("__launch_bounds__(NN_BLOCK, 2)\n" +
                          src.kernels[0].name + "_big("),
            std::string::npos);
  std::vector<KernelResources> mnist = bigVariants(src, compileCuda(src, sm90));
  EXPECT_EQ(mnist.size(), 5u);
  for (const KernelResources &r : mnist)
    EXPECT_LE(r.registers, 128) << r.kernel;
}

TEST(CudaNvrtc, PtxasLogParsing) {
  std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'k1_a' for 'sm_90'\n"
      "ptxas info    : Function properties for k1_a\n"
      "ptxas         .     8 bytes stack frame, 4 bytes spill stores, 12 "
      "bytes spill loads\n"
      "ptxas info    : Used 40 registers, used 1 barriers, 8320 bytes smem\n"
      "ptxas info    : Compiling entry function 'k2_b' for 'sm_90'\n"
      "ptxas info    : Function properties for k2_b\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 "
      "bytes spill loads\n"
      "ptxas info    : Used 14 registers, used 0 barriers\n";
  std::vector<KernelResources> r = parsePtxasLog(log);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].kernel, "k1_a");
  EXPECT_EQ(r[0].registers, 40);
  EXPECT_EQ(r[0].stackBytes, 8);
  EXPECT_EQ(r[0].spillStoreBytes, 4);
  EXPECT_EQ(r[0].spillLoadBytes, 12);
  EXPECT_EQ(r[0].sharedBytes, 8320);
  EXPECT_EQ(r[1].kernel, "k2_b");
  EXPECT_EQ(r[1].registers, 14);
  EXPECT_EQ(r[1].sharedBytes, 0);
  EXPECT_TRUE(parsePtxasLog("").empty());
}

TEST(CudaNvrtc, Tf32KernelsCompileToTensorCoreInstructions) {
  NEED_NVRTC();
  CudaPrintOptions tf32;
  tf32.tf32 = true;
  for (const char *arch : {"sm_80", "sm_90"})
    for (Stage stage : {Stage::Opt, Stage::Fused}) {
      bool h100 = std::string(arch) == "sm_90";
      if (!h100 && stage == Stage::Opt)
        continue; // the A100: one variant is enough
      Model m = loadExample("mnist_mlp.nn", stage);
      NvrtcOptions opts;
      opts.arch = arch;
      opts.noCache = true;
      std::string ptx = emitCudaText(m.graph, "ptx", opts, tf32);
      CudaSource src = printCuda(m.graph, tf32);
      int gemms = 0, big = 0;
      for (const CudaKernel &k : src.kernels) {
        gemms += k.launch == CudaLaunchKind::Gemm;
        big += !k.bigName.empty();
      }
      // Per 16-deep slice, 2 eight-deep steps of 4 mma tiles (64 x 64) or
      // of 16 (the big variants' 128 x 128).
      size_t mmas = 0;
      for (size_t pos = 0;
           (pos = ptx.find("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32."
                           "f32",
                           pos)) != std::string::npos;
           ++pos)
        ++mmas;
      EXPECT_GE(big, 4) << arch; // dense layers and input gradients
      EXPECT_EQ(mmas, static_cast<size_t>(8 * gemms + 32 * big)) << arch;
      EXPECT_NE(ptx.find("cvt.rna.tf32.f32"), std::string::npos) << arch;
      if (!h100)
        continue; // (sm_80's ptxas spills 4-8 bytes in two GEMM kernels)
      CudaBinary bin;
      ASSERT_NO_THROW(bin = compileCuda(src, opts)) << arch;
      for (const KernelResources &r : bin.resources)
        EXPECT_EQ(r.spillStoreBytes, 0) << arch << " " << r.kernel;
    }
  // Tensor-core TF32 starts at sm_80.
  Model m = loadExample("xor.nn", Stage::Fused);
  NvrtcOptions old;
  old.arch = "sm_75";
  try {
    emitCudaText(m.graph, "ptx", old, tf32);
    ADD_FAILURE() << "tf32 compiled for sm_75";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("sm_80 or newer (this is sm_75)"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
