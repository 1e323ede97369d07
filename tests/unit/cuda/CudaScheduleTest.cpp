//===- CudaScheduleTest.cpp - The lr leaf and clip_grad_norm in CUDA -----===//
///
/// \file
/// The CUDA kernels read the learning rate from its state leaf's device
/// buffer (the CUDA executor's setScalar writes it there before each step,
/// with no recompilation and no recapture), and clip_grad_norm's scalar
/// chain (sum of squares, sqrt, step) runs in the kernels: chained steps
/// in the host emulator, a different lr written before each, end with the
/// interpreter's weights, unfused and fused.
///
//===----------------------------------------------------------------------===//

#include "CudaEmulator.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"
#include "passes/optim/Optimizer.h"

using namespace nn;
using namespace nn::cudatest;

namespace {

const char *kModel = R"(model clip
input x : f32[6]
label y : class(3)
h = dense(x, 5, tanh)
o = dense(h, 3)
loss cross_entropy(softmax(o), y)
train {
  optimizer sgd(lr = 0.5, momentum = 0.9)
  schedule warmup(steps = 3) + step(every = 1, gamma = 0.5)
  clip_grad_norm 0.05
}
)";

TEST(CudaSchedule, LrLeafAndClipMatchTheInterpreterOverChainedSteps) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer does not follow ucontext fibers";
#endif
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = loadModelText("clip.nn", kModel, stage);
    const Graph &g = m.graph;
    ASSERT_TRUE(g.findLeaf(OpKind::State, kLrLeaf));
    CudaSource src = printCuda(g);
    CudaEmulator emu(src);
    ValueMap init = randomLeaves(g, 8, 3);
    TensorMap state = toTensors(init, g, true);
    ValueMap want = init;
    const double lrs[] = {0.5, 0.125, 2.0};
    for (int step = 0; step < 3; ++step) {
      ValueMap b = randomLeaves(g, 8, 50 + static_cast<uint64_t>(step));
      for (const Node &n : g.nodes)
        if (n.op == OpKind::Input || n.op == OpKind::Label)
          want[n.name] = b.at(n.name);
      state.at(kLrLeaf).data[0] = static_cast<float>(lrs[step]);
      want[kLrLeaf].data = {static_cast<double>(static_cast<float>(lrs[step]))};
      emu.runStep(g, state, toTensors(b, g, false));
      Interpreter::Result r = Interpreter(g).step(want);
      for (const auto &[name, v] : r.updates)
        want[name] = v;
    }
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Param || n.op == OpKind::State)
        expectClose(state.at(n.name), want.at(n.name), 1e-4,
                    std::string(stage == Stage::Fused ? "fused" : "unfused") +
                        ", after 3 steps: " + n.name);
  }
}

} // namespace
