//===- CudaEmulatorTest.cpp - The CUDA kernels, run without a GPU ---------===//
///
/// \file
/// Every kernel the CUDA backend generates, run by the host emulator
/// (CudaEmulator.h: the module compiled as C++, each block's threads as
/// fibers meeting at __syncthreads) against the reference interpreter: every
/// example's unfused and fused training step, a partial batch and several
/// GEMM tiles, steps chained through the updated state, the GEMMs' big-tile
/// variants (the same bits as the small tiles), and the TF32 tensor-core
/// GEMM with the PTX fragment layouts emulated. These are the
/// checks of CudaGpuTest that need no driver, so they run in `make test`.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CudaTestUtil.h"
#include "tests/unit/EveryActivation.h"

#include "codegen/cuda/CudaPrinter.h"

#include <cmath>
#include <cstring>

using namespace nn;
using namespace nn::cudatest;

namespace {

TEST(CudaEmulator, ThreadsMeetAtBarriersAndDivergentOnesAreErrors) {
  NEED_FIBERS();
  CudaSource src;
  src.graph = "barriers";
  // Each thread writes its index to shared memory; after the barrier, it
  // reads its mirror's, which only works if every thread wrote first.
  src.code = R"(
extern "C" __global__ void k_mirror(float *out, const long long batch) {
  __shared__ float s[256];
  for (int round = 0; round < 3; ++round) {
    s[threadIdx.x] = (float)(threadIdx.x + round);
    __syncthreads();
    out[blockIdx.x * 256 + threadIdx.x] += s[255 - threadIdx.x];
    __syncthreads();
  }
}
extern "C" __global__ void k_divergent(float *out, const long long batch) {
  if (threadIdx.x < 10)
    return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}
)";
  CudaEmulator emu(src);
  CudaKernel mirror;
  mirror.name = "k_mirror";
  mirror.count = {512, 0}; // two blocks
  std::vector<float> out(512, 0.0f);
  emu.launch(mirror, {out.data()}, 1);
  for (int i = 0; i < 512; ++i)
    ASSERT_EQ(out[i], 3.0f * (255 - i % 256) + 3.0f) << i;
  CudaKernel divergent;
  divergent.name = "k_divergent";
  divergent.launch = CudaLaunchKind::Single;
  try {
    emu.launch(divergent, {out.data()}, 1);
    ADD_FAILURE() << "a barrier 10 threads skip ran";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "k_divergent, block 0: 246 threads wait at __syncthreads "
                  "after 10 threads of the block returned"),
              std::string::npos)
        << e.what();
  }
}

/// One step of `g` on the emulator against the interpreter.
void checkStep(const Graph &g, int64_t batch, const std::string &what,
               const CudaPrintOptions &opts = {}, double rtol = 1e-4) {
  ValueMap leaves = randomLeaves(g, batch, 11);
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaSource src = printCuda(g, opts);
  CudaEmulator emu(src);
  TensorMap state = toTensors(leaves, g, true);
  TensorMap out = emu.runStep(g, state, toTensors(leaves, g, false));
  for (const auto &[name, v] : want.outputs)
    expectClose(out.at(name), v, rtol, what + ": output " + name);
  for (const auto &[name, v] : want.updates)
    expectClose(state.at(name), v, rtol, what + ": update of " + name);
}

TEST(CudaEmulator, EveryExampleMatchesTheInterpreter) {
  NEED_FIBERS();
  for (Variant &v : allVariants(/*forward=*/false, /*alone=*/false))
    checkStep(v.model.graph, 64, v.what);
}

TEST(CudaEmulator, EveryActivationMatchesTheInterpreter) {
  NEED_FIBERS();
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = loadModelText("every.nn", test::everyActivationModel(), stage);
    checkStep(m.graph, 37, stage == Stage::Opt ? "unfused" : "fused");
  }
}

TEST(CudaEmulator, PartialTilesAndBatches) {
  NEED_FIBERS();
  // 5: one partial tile; 200: four row tiles, the last partial.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  checkStep(m.graph, 5, "mnist_mlp batch 5");
  checkStep(m.graph, 200, "mnist_mlp batch 200");
}

TEST(CudaEmulator, ChainedStepsEndWithTheInterpretersWeights) {
  NEED_FIBERS();
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  auto [state, want] = chainedSteps(g, 64, 4);
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Param || n.op == OpKind::State)
      expectClose(state.at(n.name), want.at(n.name), 1e-3,
                  "after 4 steps: " + n.name);
}

TEST(CudaEmulator, Tf32GemmsAreCloseInNormAndRounded) {
  NEED_FIBERS();
  // Emulated tensor cores (CudaEmu.h): a step agrees with the interpreter
  // in norm to TF32's precision, and differs from the fp32 kernels' bits.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  ValueMap leaves = randomLeaves(g, 200, 5);
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaPrintOptions tf32;
  tf32.tf32 = true;
  CudaSource a = printCuda(g), b = printCuda(g, tf32);
  CudaEmulator fp32Emu(a), tf32Emu(b);
  TensorMap sa = toTensors(leaves, g, true), sb = sa;
  TensorMap oa = fp32Emu.runStep(g, sa, toTensors(leaves, g, false));
  TensorMap ob = tf32Emu.runStep(g, sb, toTensors(leaves, g, false));
  bool differs = false;
  auto check = [&](const Tensor &fp, const Tensor &tf, const Value &w,
                   const std::string &what) {
    double diff = 0, norm = 0;
    for (size_t i = 0; i < w.data.size(); ++i) {
      diff += (tf.data[i] - w.data[i]) * (tf.data[i] - w.data[i]);
      norm += w.data[i] * w.data[i];
      differs |= fp.data[i] != tf.data[i];
    }
    EXPECT_LE(std::sqrt(diff), 1e-2 * std::sqrt(norm) + 1e-30) << what;
  };
  for (const auto &[name, v] : want.outputs)
    check(oa.at(name), ob.at(name), v, "output " + name);
  for (const auto &[name, v] : want.updates)
    check(sa.at(name), sb.at(name), v, "update of " + name);
  EXPECT_TRUE(differs) << "TF32 gave the fp32 bits";
}

/// Every output and update of a step, in order (names sorted by the maps).
std::vector<std::pair<std::string, const Tensor *>>
results(const TensorMap &out, const TensorMap &state) {
  std::vector<std::pair<std::string, const Tensor *>> r;
  for (const auto &[name, t] : out)
    r.push_back({"output " + name, &t});
  for (const auto &[name, t] : state)
    r.push_back({"state " + name, &t});
  return r;
}

/// For each batch, one step on small tiles and one with every GEMM on big
/// tiles, from the same leaves: the same bits (each result adds the same
/// products in the same order), and close to the interpreter.
void checkBigTiles(const Graph &g, const std::vector<int64_t> &batches,
                   const std::string &what, CudaPrintOptions opts) {
  opts.splitK = false; // (split sums add in another order)
  CudaSource small = printCuda(g, opts);
  opts.bigTileMin = 0;
  CudaSource big = printCuda(g, opts);
  CudaEmulator smallEmu(small), bigEmu(big);
  for (int64_t batch : batches) {
    std::string at = what + ", batch " + std::to_string(batch);
    int bigLaunches = 0;
    for (const CudaKernel &k : big.kernels)
      bigLaunches += cudaLaunchDims(k, batch).big;
    ASSERT_GE(bigLaunches, 2) << at;
    for (const CudaKernel &k : small.kernels)
      ASSERT_FALSE(cudaLaunchDims(k, batch).big) << at << ": " << k.name;
    ValueMap leaves = randomLeaves(g, batch, 3);
    TensorMap sa = toTensors(leaves, g, true), sb = sa;
    TensorMap oa = smallEmu.runStep(g, sa, toTensors(leaves, g, false));
    TensorMap ob = bigEmu.runStep(g, sb, toTensors(leaves, g, false));
    auto ra = results(oa, sa), rb = results(ob, sb);
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i) {
      const Tensor &a = *ra[i].second, &b = *rb[i].second;
      ASSERT_EQ(a.data.size(), b.data.size()) << at << ": " << ra[i].first;
      size_t differ = 0;
      for (size_t e = 0; e < a.data.size(); ++e)
        differ += std::memcmp(&a.data[e], &b.data[e], sizeof(float)) != 0;
      EXPECT_EQ(differ, 0u) << at << ": " << ra[i].first << " ("
                            << a.data.size() << " elements)";
    }
    if (opts.tf32)
      continue; // (CudaEmulator.Tf32GemmsAreCloseInNormAndRounded)
    Interpreter::Result want = Interpreter(g).step(leaves);
    for (const auto &[name, v] : want.outputs)
      expectClose(ob.at(name), v, 1e-4, at + ": output " + name);
    for (const auto &[name, v] : want.updates)
      expectClose(sb.at(name), v, 1e-4, at + ": update of " + name);
  }
}

TEST(CudaEmulator, BigTilesGiveTheSmallTilesBits) {
  NEED_FIBERS();
  // 200 rows: a full 128-row tile and a partial one; 5: one partial tile.
  // Fused mnist has every operand layout (transposes read in place, the
  // activation gradient folded into loads) and the dense epilogue.
  CudaPrintOptions fp32, tf32;
  tf32.tf32 = true;
  Model fused = loadExample("mnist_mlp.nn", Stage::Fused);
  Model plain = loadExample("mnist_mlp.nn", Stage::Opt);
  checkBigTiles(fused.graph, {200, 5}, "mnist_mlp fused", fp32);
  checkBigTiles(plain.graph, {200}, "mnist_mlp unfused", fp32);
  checkBigTiles(fused.graph, {200}, "mnist_mlp fused, TF32", tf32);
}

} // namespace
