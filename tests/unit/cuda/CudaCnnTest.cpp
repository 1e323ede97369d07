//===- CudaCnnTest.cpp - CNN training steps in CUDA, no GPU needed --------===//
///
/// \file
/// Whole convolutional networks written in `.nn` (examples/fashion_cnn.nn,
/// and a small net with every layer kind: strided, grouped, 5 x 5 and
/// non-square convolutions, batch norm, max and average pooling,
/// global_avgpool, flatten, reshape), their training steps through the
/// pipeline, unfused and fused, run by the host emulator against the
/// interpreter: the loss, every updated weight and the running statistics
/// (buffers); steps chained through the updated state; the evaluation
/// form (batch norm from its running statistics). NVRTC compiles
/// every kernel of each for sm_90.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CnnModels.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"
#include "passes/EvalForm.h"

#include <cmath>
#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

TEST(CudaCnn, TrainingStepsMatchTheInterpreter) {
  NEED_FIBERS();
  for (Variant &v : cnnVariants()) {
    ASSERT_GT(v.model.graph.size(), 0) << v.what;
    EXPECT_GT(expectEmulatedStep(v.model.graph, 3, v.what), 0u) << v.what;
  }
}

TEST(CudaCnn, ChainedStepsEndWithTheInterpretersState) {
  NEED_FIBERS();
  // Three SGD steps on new batches: the weights, momenta and running
  // statistics carried by the emulated step stay with the interpreter's.
  Model m = loadModelText("every.nn", kEveryLayer, Stage::Fused);
  const Graph &g = m.graph;
  auto [state, want] = chainedSteps(g, 5, 3);
  int checked = 0;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Param) {
      expectClose(state.at(n.name), want.at(n.name), 1e-3,
                  "after 3 steps: " + n.name);
      ++checked;
    }
  EXPECT_GE(checked, 20); // weights, biases, batch norms and their buffers
}

TEST(CudaCnn, EvaluationFormsMatchTheInterpreter) {
  NEED_FIBERS();
  // Evaluation (validation, eval, predict): batch norm from its running
  // statistics (channel_affine), nothing updated.
  for (const auto &[what, text] :
       {std::pair<std::string, std::string>{"every_layer", kEveryLayer},
        {"fashion_cnn", fashionCnnSgd()}}) {
    Graph g = evalForm(loadModelText(what, text, Stage::Forward).graph);
    ASSERT_TRUE(g.updates.empty()) << what;
    ValueMap leaves = randomLeaves(g, 3, 13);
    for (auto &[name, v] : leaves)
      if (name.ends_with("running_var"))
        for (double &d : v.data)
          d = std::fabs(d);
    expectEmulatedOutputs(g, printCuda(g), leaves, what);
  }
}

TEST(CudaCnn, NvrtcCompilesEveryKernelForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-cnn-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  for (Variant &v : cnnVariants()) {
    CudaSource src = printCuda(v.model.graph);
    CudaBinary bin;
    ASSERT_NO_THROW(bin = compileCuda(src, opts)) << v.what;
    for (const CudaKernel &k : src.kernels) {
      bool found = false;
      for (const KernelResources &r : bin.resources)
        found |= r.kernel == k.name;
      EXPECT_TRUE(found) << v.what << ": no ptxas report for " << k.name;
    }
  }
  std::filesystem::remove_all(dir);
}
