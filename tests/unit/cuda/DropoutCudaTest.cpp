//===- DropoutCudaTest.cpp - Dropout's CUDA kernel, emulated and compiled -===//
///
/// \file
/// The CUDA kernel of dropout, run by the host emulator, draws the
/// interpreter's mask bit for bit (the same Philox template, printed as
/// CUDA C++), at any step and first row; a shard of rows draws the whole
/// batch's masks of those rows, forward and backward; a model with dropout
/// steps like the interpreter, fused and unfused; NVRTC compiles the kernel for
/// sm_90.
///
//===----------------------------------------------------------------------===//

#include "EmulatedStep.h"
#include "CudaTestUtil.h"
#include "tests/unit/DropoutShards.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/Nvrtc.h"
#include "ir/Philox.h"
#include "passes/SeedDropout.h"
#include "passes/optim/Optimizer.h"

#include <filesystem>

using namespace nn;
using namespace nn::cudatest;

namespace {

const char *kModel = R"(model drop
input x : f32[7]
label y : class(3)
fc1 = dense(x, 13, relu)
h = dropout(fc1, 0.3)
fc2 = dense(h, 9, tanh)
h2 = dropout(fc2, 0.5)
out = dense(h2, 3)
loss cross_entropy(softmax(out), y)
train { optimizer sgd(lr = 0.1, momentum = 0.9)  batch 4  seed 11 }
)";

Model dropModel(Stage stage) {
  DiagEngine diags;
  diags.addSource("drop.nn", kModel);
  std::optional<Model> m = parseModel("drop.nn", kModel, diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  m->graph = runPipeline(seedDropout(m->graph, m->recipe.seed), m->recipe,
                         stage, PipelineOptions{}, diags);
  return *m;
}

/// The output of dropout `id`'s kernel in `src`, launched alone on the
/// emulator with input `x` (`rows` rows), the step and the first row.
std::vector<float> launchDropout(CudaEmulator &emu, const CudaSource &src,
                                 NodeId id, const std::vector<double> &x,
                                 double step, double first, int64_t rows) {
  const CudaKernel *k = nullptr;
  for (const CudaKernel &c : src.kernels)
    if (c.node == id)
      k = &c;
  if (!k) {
    ADD_FAILURE() << "no kernel for dropout %" << id;
    return {};
  }
  std::vector<float> in(x.begin(), x.end());
  std::vector<float> s = {static_cast<float>(step)};
  std::vector<float> f = {static_cast<float>(first)};
  std::vector<float> out(in.size(), -1.0f);
  emu.launch(*k, {out.data(), in.data(), s.data(), f.data()}, rows);
  return out;
}

/// Runs `body` on the model's graph, its CUDA source and an emulator of
/// its kernels, unfused and fused.
template <class F> void forEachStage(F body) {
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    Model m = dropModel(stage);
    CudaSource src = printCuda(m.graph);
    CudaEmulator emu(src);
    body(m.graph, src, emu);
  }
}

TEST(CudaDropout, EmulatedKernelsDrawTheInterpretersMasks) {
  NEED_FIBERS();
  forEachStage([](const Graph &g, const CudaSource &src, CudaEmulator &emu) {
    for (auto [step, first] : {std::pair{0.0, 0.0}, {5.0, 3.0}}) {
      ValueMap leaves = randomLeaves(g, 37, 3);
      leaves[kStepLeaf] = Value::scalar(step);
      leaves[kFirstRowLeaf] = Value::scalar(first);
      std::vector<Value> want = Interpreter(g).run(leaves);
      // Every dropout's output, forward and backward, element by element:
      // launched alone on the interpreter's operands.
      for (NodeId id = 0; id < g.size(); ++id) {
        if (g[id].op != OpKind::Dropout)
          continue;
        const std::vector<double> &xd = want[g[id].inputs[0]].data;
        std::vector<float> x(xd.begin(), xd.end());
        std::vector<float> out =
            launchDropout(emu, src, id, xd, step, first, 37);
        ASSERT_EQ(out.size(), x.size());
        int64_t zeros = 0;
        const float scale = philox::dropoutScale(g[id].param);
        for (size_t i = 0; i < out.size(); ++i) {
          // The interpreter's mask, and exactly x * scale (float) where kept.
          bool kept = want[id].data[i] != 0 || x[i] == 0;
          ASSERT_EQ(out[i], kept ? x[i] * scale : 0.0f)
              << "dropout %" << id << " element " << i << ", step " << step;
          zeros += out[i] == 0 && x[i] != 0;
        }
        EXPECT_GT(zeros, 0) << "dropout %" << id;
      }
      // And the whole step through the emulator's executor.
      TensorMap state = toTensors(leaves, g, true);
      TensorMap out = emu.runStep(g, state, toTensors(leaves, g, false));
      Interpreter::Result r = Interpreter(g).step(leaves);
      for (const auto &[name, v] : r.outputs)
        expectClose(out.at(name), v, 1e-4, "output " + name);
      for (const auto &[name, v] : r.updates)
        expectClose(state.at(name), v, 1e-4, "update of " + name);
    }
  });
}

TEST(CudaDropout, EmulatedShardsDrawTheWholeBatchsMasks) {
  // Each dropout kernel, forward and backward, on a shard of rows [b, e)
  // with its first row b (its input the interpreter's on the shard) keeps
  // what the whole batch of 9 rows keeps in those rows.
  NEED_FIBERS();
  forEachStage([](const Graph &g, const CudaSource &src, CudaEmulator &emu) {
    const int64_t rows = 9;
    ValueMap leaves = randomLeaves(g, rows, 6);
    leaves[kStepLeaf] = Value::scalar(7);
    leaves[kFirstRowLeaf] = Value::scalar(0);
    std::vector<Value> whole = Interpreter(g).run(leaves);
    for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 3}, {3, 9}, {4, 6}}) {
      std::vector<Value> part =
          Interpreter(g).run(test::shardLeaves(g, leaves, rows, b, e));
      for (NodeId id = 0; id < g.size(); ++id) {
        if (g[id].op != OpKind::Dropout)
          continue;
        NodeId in = g[id].inputs[0];
        auto floats = [](const Value &v) {
          return std::vector<float>(v.data.begin(), v.data.end());
        };
        std::vector<float> out = launchDropout(emu, src, id, part[in].data, 7,
                                               static_cast<double>(b), e - b);
        EXPECT_GT(test::expectWholeBatchMask(
                      g[id], b, floats(whole[in]), floats(whole[id]),
                      floats(part[in]), out,
                      "dropout %" + std::to_string(id) + " of rows [" +
                          std::to_string(b) + ", " + std::to_string(e) + ")"),
                  0);
      }
    }
  });
}

TEST(CudaDropout, NvrtcCompilesTheKernelForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-dropout-nvrtc-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  CudaSource src = printCuda(dropModel(Stage::Fused).graph);
  CudaBinary bin = compileCuda(src, opts);
  int dropouts = 0;
  for (const CudaKernel &k : src.kernels) {
    if (k.name.find("dropout") == std::string::npos)
      continue;
    ++dropouts;
    bool found = false;
    for (const KernelResources &r : bin.resources)
      found |= r.kernel == k.name;
    EXPECT_TRUE(found) << "no ptxas report for " << k.name;
  }
  EXPECT_EQ(dropouts, 4); // two forward, two backward
  std::filesystem::remove_all(dir);
}

} // namespace
