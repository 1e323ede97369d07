//===- DataParallelCudaTest.cpp - Data-parallel training on GPUs ----------===//
///
/// \file
/// The parts of `mpirun -np N nnc train --backend=cuda` that can be checked
/// without a GPU: which device a rank takes, libnccl loaded at run time (its
/// version needs no GPU) and the message when it is missing, and the
/// gradient sum kernel (codegen/cuda/CudaSliceSum.h), run by the emulator
/// against runtime/Sharding.h's sumInRankOrder bit for bit and compiled by
/// NVRTC for sm_90 without spills. What needs GPUs (NCCL's transfers, the
/// device-to-device hand-offs) is tests/gpu/mpi_nccl.sh.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"

#include "codegen/cuda/CudaDriver.h"
#include "codegen/cuda/CudaSliceSum.h"
#include "codegen/cuda/Nccl.h"
#include "ir/Support.h"
#include "runtime/DeviceReduce.h"
#include "runtime/Sharding.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <regex>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

TEST(CudaDeviceChoice, OneDevicePerRankOfTheNode) {
  EXPECT_EQ(chooseCudaDevice("", -1, 8), 0); // not under a launcher
  EXPECT_EQ(chooseCudaDevice("", 0, 8), 0);
  EXPECT_EQ(chooseCudaDevice("", 5, 8), 5);
  // More ranks than GPUs share them in turn; CUDA_VISIBLE_DEVICES of one
  // GPU per rank (the old wrapper) still gives device 0.
  EXPECT_EQ(chooseCudaDevice("", 9, 8), 1);
  EXPECT_EQ(chooseCudaDevice("", 3, 1), 0);
}

TEST(CudaDeviceChoice, TheRequestWins) {
  EXPECT_EQ(chooseCudaDevice("3", 5, 8), 3);
  EXPECT_EQ(chooseCudaDevice("0", -1, 1), 0);
  for (const char *bad : {"8", "-1", "one", "1x", " 1", "99999999999"}) {
    try {
      chooseCudaDevice(bad, 0, 8);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UserError &e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("nnc: error: NNC_CUDA_DEVICE=") + bad +
                    " names no CUDA device of this machine, which has 8 "
                    "devices (0 to 7)");
    }
  }
}

constexpr const char *kNccl = "/usr/local/cuda/lib64/libnccl.so.2";

TEST(Nccl, TheLibraryLoadsAndSaysItsVersion) {
  if (access(kNccl, R_OK) != 0)
    GTEST_SKIP() << kNccl << " is not installed";
  for (const std::string &path : {std::string(kNccl), std::string()}) {
    NcclLibrary lib = path.empty() ? loadNccl() : loadNccl(path);
    EXPECT_EQ(lib.error, "") << lib.path;
    EXPECT_TRUE(std::regex_match(lib.version, std::regex(R"(2\.\d+\.\d+)")))
        << lib.version;
    EXPECT_TRUE(lib.api);
    EXPECT_EQ(gradientPathNote(lib.version, lib.error),
              "data-parallel: gradients summed with NCCL " + lib.version +
                  " on the GPUs");
  }
}

TEST(Nccl, VersionCodes) {
  EXPECT_EQ(ncclVersionText(22809), "2.28.9");
  EXPECT_EQ(ncclVersionText(21903), "2.19.3");
  EXPECT_EQ(ncclVersionText(2804), "2.8.4"); // the scheme before 2.9
}

TEST(Nccl, AMissingLibraryFallsBackToMpi) {
  NcclLibrary lib = loadNccl("/nonexistent/libnccl.so.2");
  EXPECT_FALSE(lib.api);
  EXPECT_EQ(lib.version, "");
  EXPECT_EQ(lib.error.rfind("cannot load /nonexistent/libnccl.so.2: ", 0), 0u)
      << lib.error;
  EXPECT_EQ(gradientPathNote(lib.version, lib.error),
            "data-parallel: gradients summed through MPI on host buffers (" +
                lib.error + ")");
  // A library that is not NCCL names the first function it lacks.
  NcclLibrary libc = loadNccl("libc.so.6");
  EXPECT_EQ(libc.error, "libc.so.6 has no ncclGetVersion");
}

TEST(Nccl, TheEnvironmentPicksTheLibrary) {
  std::string why;
  unsetenv("NNC_NCCL");
  unsetenv("NNC_NCCL_LIBRARY");
  EXPECT_EQ(requestedNcclLibrary(why), "libnccl.so.2");
  setenv("NNC_NCCL_LIBRARY", "/opt/nccl/lib/libnccl.so.2", 1);
  EXPECT_EQ(requestedNcclLibrary(why), "/opt/nccl/lib/libnccl.so.2");
  EXPECT_EQ(why, "");
  setenv("NNC_NCCL", "0", 1);
  EXPECT_EQ(requestedNcclLibrary(why), "");
  EXPECT_EQ(why, "NNC_NCCL=0");
  unsetenv("NNC_NCCL");
  unsetenv("NNC_NCCL_LIBRARY");
}

TEST(Nccl, EveryRankNeedsItsOwnGpu) {
  auto block = [](bool can, char gpu) {
    return std::string(1, can ? 1 : 0) + std::string(16, gpu);
  };
  EXPECT_EQ(ncclInTheWorld(block(true, 'a') + block(true, 'b'), 17), "");
  EXPECT_EQ(ncclInTheWorld(
                block(true, 'a') + block(true, 'b') + block(true, 'a'), 17),
            "ranks 0 and 2 share a GPU; NCCL needs one GPU per rank");
  EXPECT_EQ(
      ncclInTheWorld(block(true, 'a') + block(false, 0) + block(false, 0), 17),
      "2 of 3 ranks cannot use NCCL");
}

/// `ranks` slices of `width` values each, of mixed signs and magnitudes
/// (1e-8 to 1e8: a float sum, or one that rounds each term, differs).
std::vector<float> randomSlices(int ranks, size_t width, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mant(-1, 1);
  std::uniform_int_distribution<int> exp10(-8, 8);
  std::vector<float> v(static_cast<size_t>(ranks) * width);
  for (float &x : v)
    x = static_cast<float>(mant(rng) * std::pow(10.0, exp10(rng)));
  return v;
}

TEST(CudaSliceSum, EmulatedSumHasTheBitsOfSumInRankOrder) {
  NEED_FIBERS();
  for (int ranks : {1, 2, 3}) {
    CudaSource src = printSliceSum(ranks);
    CudaEmulator emu(src);
    // Odd widths, one past a block, and more than a few blocks.
    for (size_t width : {size_t(1), size_t(7), size_t(257), size_t(1001)}) {
      // A global batch of 7 rows: shards of 3, 2, 2 rows for 3 ranks.
      std::vector<double> w;
      for (int r = 0; r < ranks; ++r) {
        auto [b, e] = shardRange(7, ranks, r);
        w.push_back(static_cast<double>(e - b) / 7.0);
      }
      std::vector<float> in = randomSlices(ranks, width, 31 * width + ranks);
      std::vector<float> want = sumInRankOrder(in, ranks, width, w);
      std::vector<float> out(width, std::nanf(""));
      // The weights travel as doubles behind a float pointer, as on the GPU.
      emu.launch(src.kernels.at(0),
                 {out.data(), in.data(), reinterpret_cast<float *>(w.data())},
                 static_cast<long long>(width));
      ASSERT_EQ(std::memcmp(out.data(), want.data(), width * sizeof(float)), 0)
          << ranks << " ranks, width " << width;
      // Not trivially: a float sum in rank order gives other bits.
      if (ranks > 1 && width > 100) {
        size_t differ = 0;
        for (size_t i = 0; i < width; ++i) {
          float f = 0;
          for (int r = 0; r < ranks; ++r)
            f += static_cast<float>(w[static_cast<size_t>(r)]) *
                 in[static_cast<size_t>(r) * width + i];
          differ += f != want[i];
        }
        EXPECT_GT(differ, 0u) << ranks << " ranks, width " << width;
      }
    }
  }
}

TEST(CudaSliceSumNvrtc, CompilesForSm90WithoutSpills) {
  NEED_NVRTC();
  NvrtcOptions sm90;
  sm90.arch = "sm_90";
  sm90.noCache = true;
  for (int ranks : {1, 2, 3, 8}) {
    CudaSource src = printSliceSum(ranks);
    CudaBinary bin = compileCuda(src, sm90);
    EXPECT_FALSE(bin.cubin.empty());
    ASSERT_EQ(bin.resources.size(), 1u) << bin.ptxasLog;
    const KernelResources &r = bin.resources[0];
    EXPECT_EQ(r.kernel, "nn_slice_sum_" + std::to_string(ranks));
    EXPECT_EQ(r.spillStoreBytes, 0) << bin.ptxasLog;
    EXPECT_EQ(r.spillLoadBytes, 0) << bin.ptxasLog;
    EXPECT_EQ(r.stackBytes, 0) << bin.ptxasLog;
  }
}

} // namespace
