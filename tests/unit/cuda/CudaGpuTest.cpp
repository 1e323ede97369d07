//===- CudaGpuTest.cpp - The CUDA backend on a GPU against the interpreter ===//
///
/// \file
/// On a machine with a CUDA device: every example (forward graph, unfused
/// and fused steps) run by the CUDA executor matches the reference
/// interpreter (outputs and updated state, float32 against double); a
/// partial last batch; the CUDA graph replay and --sync give the same bits;
/// mnist_mlp trained for N steps ends with the interpreter's weights; the
/// spatial kernels (SpatialGraphs.h: convolutions, pooling, batch norm's
/// channel ops and running statistics) match the interpreter and give the
/// same bits on every run; CNN training steps (CnnModels.h) match it, and
/// fashion_cnn after 10 steps ends with its weights. Every
/// test skips itself, saying why, where there is no device. These run as
/// `ctest -L gpu` (and as part of unit/cuda).
///
//===----------------------------------------------------------------------===//

#include "CnnModels.h"
#include "CudaTestUtil.h"
#include "SpatialGraphs.h"

#include "ir/Support.h"
#include "runtime/Executor.h"

#ifdef NNC_HAVE_CUDA_BACKEND
#include "runtime/CudaExecutor.h"
#endif

#include <algorithm>

using namespace nn;
using namespace nn::cudatest;

namespace {

#ifdef NNC_HAVE_CUDA_BACKEND
#define NEED_GPU()                                                             \
  if (std::string why = cudaBackendUnavailable(); !why.empty())                \
  GTEST_SKIP() << "no CUDA device: " << why
#else
#define NEED_GPU()                                                             \
  GTEST_SKIP() << "this build has no CUDA backend (CUDA toolkit not found)"
#endif

#ifdef NNC_HAVE_CUDA_BACKEND
/// One step of `g` on the CUDA executor against the interpreter.
void checkStep(const Graph &g, int64_t batch, const std::string &what,
               CudaExecOptions opts = {}) {
  ValueMap leaves = randomLeaves(g, batch, 11);
  Interpreter::Result want = Interpreter(g).step(leaves);
  std::unique_ptr<Executor> ex = makeCudaExecutor(g, opts);
  ex->setState(toTensors(leaves, g, true));
  TensorMap out = ex->run(toTensors(leaves, g, false));
  for (const auto &[name, v] : want.outputs)
    expectClose(out.at(name), v, 1e-4, what + ": output " + name);
  const TensorMap &s = ex->state();
  for (const auto &[name, v] : want.updates)
    expectClose(s.at(name), v, 1e-4, what + ": update of " + name);
}
#endif

TEST(CudaGpu, EveryExampleMatchesTheInterpreter) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  for (Variant &v : allVariants())
    checkStep(v.model.graph, 64, v.what);
#endif
}

TEST(CudaGpu, PartialBatchesAndSyncMode) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  for (const char *f : {"xor.nn", "mnist_mlp.nn"}) {
    Model m = loadExample(f, Stage::Fused);
    checkStep(m.graph, 5, std::string(f) + " batch 5");
    checkStep(m.graph, 200, std::string(f) + " batch 200 (several tiles)");
    CudaExecOptions sync;
    sync.sync = true;
    checkStep(m.graph, 37, std::string(f) + " --sync", sync);
  }
#endif
}

#ifdef NNC_HAVE_CUDA_BACKEND
/// 3 steps of `g` from the same leaves on two CUDA executors: the same bits
/// in every output and in the final state.
void expectSameBits(const Graph &g, const ValueMap &leaves,
                    const CudaExecOptions &oa, const CudaExecOptions &ob,
                    const std::string &what) {
  std::unique_ptr<Executor> a = makeCudaExecutor(g, oa);
  std::unique_ptr<Executor> b = makeCudaExecutor(g, ob);
  a->setState(toTensors(leaves, g, true));
  b->setState(toTensors(leaves, g, true));
  for (int step = 0; step < 3; ++step) {
    TensorMap ra = a->run(toTensors(leaves, g, false));
    TensorMap rb = b->run(toTensors(leaves, g, false));
    for (const auto &[name, t] : ra)
      EXPECT_EQ(t.data, rb.at(name).data)
          << what << ": " << name << " step " << step;
  }
  for (const auto &[name, t] : a->state())
    EXPECT_EQ(t.data, b->state().at(name).data) << what << ": " << name;
}
#endif

TEST(CudaGpu, GraphReplayEqualsKernelByKernel) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  CudaExecOptions replay, direct;
  direct.noGraph = true;
  expectSameBits(m.graph, randomLeaves(m.graph, 64, 21), replay, direct,
                 "replayed vs kernel by kernel");
#endif
}

TEST(CudaGpu, MnistStepsEndWithTheInterpretersWeights) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  // N SGD+momentum+L2 steps on the same batches: the CUDA backend (fused,
  // as training runs it) and the interpreter end with the same weights.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  ValueMap init = randomLeaves(g, 64, 1);
  std::unique_ptr<Executor> cuda = makeCudaExecutor(g, {});
  std::unique_ptr<Executor> interp = makeExecutor("interp", g);
  cuda->setState(toTensors(init, g, true));
  interp->setState(toTensors(init, g, true));
  const int kSteps = 20;
  for (int step = 0; step < kSteps; ++step) {
    ValueMap b = randomLeaves(g, 64, 100 + static_cast<uint64_t>(step));
    cuda->run(toTensors(b, g, false));
    interp->run(toTensors(b, g, false));
  }
  for (const auto &[name, t] : interp->state())
    expectClose(cuda->state().at(name), toValue(t), 1e-3,
                "after " + std::to_string(kSteps) + " steps: " + name);
#endif
}

TEST(CudaGpu, BadLabelsAreRejectedBeforeAnyKernel) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  ValueMap leaves = randomLeaves(g, 8, 3);
  leaves["y"].data[3] = 10; // class(10) has ids 0..9
  std::unique_ptr<Executor> ex = makeCudaExecutor(g, {});
  ex->setState(toTensors(leaves, g, true));
  try {
    ex->run(toTensors(leaves, g, false));
    FAIL() << "accepted label 10";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("out of range for class(10)"),
              std::string::npos)
        << e.what();
  }
#endif
}

TEST(CudaGpu, BigTilesGiveTheSmallTilesBits) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  // Every GEMM on 128 x 128 tiles (bigTileMin 1) against the small tiles
  // (all small at these sizes; K not split): the same bits, fp32 and TF32,
  // over 3 steps.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  for (bool tf32 : {false, true})
    for (int64_t batch : {200, 37}) {
      CudaExecOptions small, big;
      small.tf32 = big.tf32 = tf32;
      small.splitK = false; // (split sums add in another order)
      big.bigTileMin = 1;
      expectSameBits(g, randomLeaves(g, batch, 9), small, big,
                     "batch " + std::to_string(batch) +
                         (tf32 ? ", tf32" : ""));
    }
#endif
}

TEST(CudaGpu, Tf32StepIsCloseToFp32AndUsesTensorCores) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  // TF32 keeps 10 of fp32's 23 mantissa bits (unit roundoff 2^-11), so a
  // step is compared tensor by tensor in norm, as reduced-precision GEMMs
  // are: ||tf32 - fp32|| <= 1e-2 ||fp32||. And the two must differ
  // somewhere, or the products did not run in TF32.
  for (const char *f : {"mnist_mlp.nn", "churn.nn"}) {
    Model m = loadExample(f, Stage::Fused);
    const Graph &g = m.graph;
    ValueMap leaves = randomLeaves(g, 200, 5);
    CudaExecOptions fp32, tf32;
    tf32.tf32 = true;
    std::unique_ptr<Executor> a = makeCudaExecutor(g, fp32);
    std::unique_ptr<Executor> b = makeCudaExecutor(g, tf32);
    a->setState(toTensors(leaves, g, true));
    b->setState(toTensors(leaves, g, true));
    TensorMap oa = a->run(toTensors(leaves, g, false));
    TensorMap ob = b->run(toTensors(leaves, g, false));
    for (const auto &[name, t] : a->state())
      oa["state " + name] = t;
    for (const auto &[name, t] : b->state())
      ob["state " + name] = t;
    bool differs = false;
    for (const auto &[name, t] : oa) {
      const std::vector<float> &x = t.data, &y = ob.at(name).data;
      ASSERT_EQ(x.size(), y.size()) << name;
      double diff = 0, norm = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        diff += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
        norm += double(x[i]) * x[i];
        differs |= x[i] != y[i];
      }
      EXPECT_LE(std::sqrt(diff), 1e-2 * std::sqrt(norm) + 1e-30)
          << f << ": " << name;
    }
    EXPECT_TRUE(differs) << f << ": tf32 gave the fp32 bits";
  }
#endif
}

TEST(CudaGpu, SpatialKernelsMatchTheInterpreter) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  for (const ConvCase &cc : convCases()) {
    checkStep(convGraph(cc), 3, cc.what);
    checkStep(convGraph(cc), 64, cc.what + ", batch 64");
  }
  checkStep(poolGraph(), 7, "pooling");
  checkStep(channelGraph(), 37, "channels");
#endif
}

TEST(CudaGpu, SpatialKernelsGiveTheSameBitsEveryRun) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  // Block sums in a fixed tree, gathered pooling gradients, GEMMs with
  // split-K reduced in split order: replayed or launched one by one, the
  // same bits, step after step.
  CudaExecOptions replay, direct;
  direct.noGraph = true;
  for (const ConvCase &cc : convCases()) {
    Graph g = convGraph(cc);
    expectSameBits(g, randomLeaves(g, 64, 2), replay, direct, cc.what);
  }
  Graph c = channelGraph();
  expectSameBits(c, randomLeaves(c, 64, 2), replay, direct, "channels");
#endif
}

TEST(CudaGpu, CnnStepsMatchTheInterpreter) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  for (Variant &v : cnnVariants()) {
    checkStep(v.model.graph, 3, v.what);
    checkStep(v.model.graph, 64, v.what + ", batch 64");
  }
#endif
}

TEST(CudaGpu, FashionCnnStepsEndWithTheInterpretersWeights) {
  NEED_GPU();
#ifdef NNC_HAVE_CUDA_BACKEND
  // 10 SGD steps of the fused CNN on the same batches: weights and running
  // statistics as the interpreter's.
  Model m = loadModelText("fashion_cnn.nn", fashionCnnSgd(), Stage::Fused);
  const Graph &g = m.graph;
  ValueMap init = randomLeaves(g, 16, 1);
  std::unique_ptr<Executor> cuda = makeCudaExecutor(g, {});
  std::unique_ptr<Executor> interp = makeExecutor("interp", g);
  cuda->setState(toTensors(init, g, true));
  interp->setState(toTensors(init, g, true));
  for (int step = 0; step < 10; ++step) {
    ValueMap b = randomLeaves(g, 16, 100 + static_cast<uint64_t>(step));
    cuda->run(toTensors(b, g, false));
    interp->run(toTensors(b, g, false));
  }
  for (const auto &[name, t] : interp->state())
    expectClose(cuda->state().at(name), toValue(t), 1e-3,
                "after 10 steps: " + name);
#endif
}

} // namespace
