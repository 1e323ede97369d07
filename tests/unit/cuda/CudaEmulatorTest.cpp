//===- CudaEmulatorTest.cpp - The CUDA kernels, run without a GPU ---------===//
///
/// \file
/// Every kernel the CUDA backend generates, run by the host emulator
/// (CudaEmulator.h: the module compiled as C++, each block's threads as
/// fibers meeting at __syncthreads) against the reference interpreter: every
/// example's unfused and fused training step, a partial batch and several
/// GEMM tiles, steps chained through the updated state, and the TF32
/// tensor-core GEMM with the PTX fragment layouts emulated. These are the
/// checks of CudaGpuTest that need no driver, so they run in `make test`.
///
//===----------------------------------------------------------------------===//

#include "CudaEmulator.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"

#include <cmath>

using namespace nn;
using namespace nn::cudatest;

namespace {

#if defined(__SANITIZE_ADDRESS__)
#define NEED_FIBERS()                                                          \
  GTEST_SKIP() << "AddressSanitizer does not follow ucontext fibers"
#else
#define NEED_FIBERS()
#endif

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
  CudaSource src = printCuda(g);
  CudaEmulator emu(src);
  ValueMap init = randomLeaves(g, 64, 7);
  TensorMap state = toTensors(init, g, true);
  ValueMap want = init;
  for (int step = 0; step < 4; ++step) {
    ValueMap b = randomLeaves(g, 64, 100 + static_cast<uint64_t>(step));
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Input || n.op == OpKind::Label)
        want[n.name] = b.at(n.name);
    emu.runStep(g, state, toTensors(b, g, false));
    Interpreter::Result r = Interpreter(g).step(want);
    for (const auto &[name, v] : r.updates)
      want[name] = v;
  }
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

} // namespace
