//===- CudaBatchNormFoldTest.cpp - Folded batch norm in CUDA, no GPU ------===//
///
/// \file
/// Evaluation graphs with every batch norm folded into its convolution
/// (ir/ConvAffine.h: the per-channel scale and shift applied in the
/// convolution's store, before or after the activation), printed as CUDA
/// and run by the host emulator against the interpreter: batch norm after
/// the activation (fashion_cnn, every_layer: the implicit GEMM) and before
/// it (a small residual net: conv -> batch norm -> relu, no bias, groups
/// 1 and 2: the GEMM and the direct kernel, then a grouped conv + relu ->
/// batch norm: after, direct). NVRTC compiles them for sm_90 where the
/// toolkit is.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CnnModels.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"
#include "ir/ConvAffine.h"
#include "passes/EvalForm.h"

#include <filesystem>

using namespace nn;
using namespace nn::cudatest;

namespace {

/// conv -> batch norm -> relu (the affine before the activation), with a
/// residual add, groups 2 (the direct kernel), and no bias, as
/// resnet_small.nn writes them; then a grouped conv + relu -> batch norm
/// (after the activation, direct).
const char *const kMixedNet = R"(model mixed_net
input x : f32[2, 6, 6]
label y : class(3)
c1 = conv2d(x, 4, kernel = 3, padding = 1, bias = false)
n1 = batch_norm(c1)
a1 = relu(n1)
c2 = conv2d(a1, 4, kernel = 3, padding = 1, groups = 2)
n2 = batch_norm(c2)
h  = relu(n2 + a1)
c3 = conv2d(h, 6, kernel = 3, stride = 2, padding = 1, groups = 2, relu)
n3 = batch_norm(c3)
out = dense(flatten(n3), 3)
loss cross_entropy(softmax(out), y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.1) batch 4 epochs 1 }
)";

/// The models' evaluation graphs, every fusion on.
std::vector<std::pair<std::string, Graph>> foldedGraphs() {
  std::vector<std::pair<std::string, Graph>> v;
  for (const auto &[what, text] :
       {std::pair<std::string, std::string>{"mixed_net", kMixedNet},
        {"every_layer", kEveryLayer},
        {"fashion_cnn", fashionCnnSgd()}}) {
    Graph eval = evalForm(loadModelText(what, text, Stage::Forward).graph);
    FusionLog log;
    v.push_back(
        {what, fuse(eval, {fusionNames().begin(), fusionNames().end()}, log)});
  }
  return v;
}

} // namespace

TEST(CudaBatchNormFold, FoldedEvaluationGraphsMatchTheInterpreter) {
  NEED_FIBERS();
  for (const auto &[what, g] : foldedGraphs()) {
    int before = 0, after = 0;
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Conv2d && convOperands(n).hasAffine())
        ++(affineAfterAct(n) ? after : before);
    EXPECT_GT(before + after, 0) << what;
    if (what == "mixed_net") {
      EXPECT_EQ(before, 2) << what;
      EXPECT_EQ(after, 1) << what;
    }
    ValueMap leaves = randomLeaves(g, 3, 29);
    for (auto &[name, v] : leaves)
      if (name.ends_with("running_var"))
        for (double &d : v.data)
          d = std::fabs(d) + 0.05;
    CudaSource src = printCuda(g);
    EXPECT_NE(src.code.find("* s + t"), std::string::npos) << what;
    expectEmulatedOutputs(g, src, leaves, what);
  }
}

TEST(CudaBatchNormFold, NvrtcCompilesTheFoldedKernelsForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-bnfold-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  // mixed_net and every_layer have both kernel forms, before and after
  // (fashion_cnn's folded kernel is every_layer's c1 again).
  for (const auto &[what, g] : foldedGraphs()) {
    if (what == "fashion_cnn")
      continue;
    CudaSource src = printCuda(g);
    EXPECT_NO_THROW(compileCuda(src, opts)) << what;
  }
  std::filesystem::remove_all(dir);
}
