//===- CudaOptimizerTest.cpp - The optimizers' CUDA kernels ---------------===//
///
/// \file
/// The update kernels of every optimizer (SGD with momentum, nesterov and
/// weight decay; Adam with weight decay; AdamW), unfused and fused
/// (fused.adam_moment, fused.adam_variance, fused.adam, fused.sgd_momentum,
/// fused.sgd), run by the host emulator for three chained steps against
/// the interpreter, and the fused ones compiled by NVRTC for sm_90
/// (skipped in builds without NVRTC).
///
//===----------------------------------------------------------------------===//

#include "CudaEmulator.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"

#include <cmath>
#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

/// A two-layer classifier trained by `optimizer`.
std::string model(const std::string &optimizer) {
  return "model opt\ninput x : f32[6]\nlabel y : class(3)\n"
         "h = dense(x, 5, relu)\nz = dense(h, 3)\n"
         "loss cross_entropy(softmax(z), y)\n"
         "train {\n  optimizer " +
         optimizer + "\n  l2 1e-3\n}\n";
}

const std::vector<std::string> &optimizerLines() {
  static const std::vector<std::string> lines = {
      "sgd(lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01)",
      "adam(lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, "
      "weight_decay = 0.1)",
      "adamw(lr = 0.01, weight_decay = 0.5)"};
  return lines;
}

/// Random leaves whose state is a valid optimizer state: v >= 0 (Adam's
/// second moment) and `done` steps so far.
ValueMap stateLeaves(const Graph &g, uint64_t seed, double done) {
  ValueMap l = randomLeaves(g, 7, seed);
  for (auto &[name, v] : l) {
    if (name == "optimizer.step")
      v.data[0] = done;
    else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".v") == 0)
      for (double &x : v.data)
        x = std::fabs(x);
  }
  return l;
}

} // namespace

TEST(CudaOptimizers, EmulatedUpdatesMatchTheInterpreterOverChainedSteps) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer does not follow ucontext fibers";
#endif
  for (const std::string &line : optimizerLines())
    for (Stage stage : {Stage::Opt, Stage::Fused}) {
      std::string what = line + (stage == Stage::Fused ? " fused" : "");
      Model m = loadModelText("opt.nn", model(line), stage);
      const Graph &g = m.graph;
      ASSERT_GT(g.size(), 0) << what;
      int updateOps = 0;
      for (const Node &n : g.nodes)
        updateOps += family(n.op) == OpFamily::Update;
      // Four parameters: two or three update ops each when fused.
      EXPECT_EQ(updateOps, stage == Stage::Opt         ? 0
                           : line.rfind("sgd", 0) == 0 ? 8
                                                       : 12)
          << what;
      CudaSource src = printCuda(g); // the emulator keeps a reference
      CudaEmulator emu(src);
      ValueMap want = stateLeaves(g, 5, 2);
      TensorMap state = toTensors(want, g, true);
      for (int step = 0; step < 3; ++step) {
        ValueMap b = randomLeaves(g, 7, 50 + static_cast<uint64_t>(step));
        for (const Node &n : g.nodes)
          if (n.op == OpKind::Input || n.op == OpKind::Label)
            want[n.name] = b.at(n.name);
        emu.runStep(g, state, toTensors(b, g, false));
        for (const auto &[name, v] : Interpreter(g).step(want).updates)
          want[name] = v;
      }
      for (const Node &n : g.nodes)
        if (n.op == OpKind::Param || n.op == OpKind::State)
          expectClose(state.at(n.name), want.at(n.name), 1e-4,
                      what + ", after 3 steps: " + n.name);
    }
}

TEST(CudaOptimizers, NvrtcCompilesEveryUpdateKernelForSm90) {
  NEED_NVRTC();
  char tmpl[] = "/tmp/nnc-nvrtc-optim-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  // The fused steps: their update kernels (the unfused steps' elementwise
  // kernels are compiled by NvrtcTest).
  for (const std::string &line : optimizerLines()) {
    Model m = loadModelText("opt.nn", model(line), Stage::Fused);
    CudaSource src = printCuda(m.graph);
    EXPECT_NO_THROW(compileCuda(src, opts)) << line;
  }
  std::filesystem::remove_all(dir);
}
