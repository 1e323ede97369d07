//===- EpochProgramTest.cpp - K steps in one call, the same bits ----------===//
///
/// \file
/// The CPU backend's generated "run K steps" entry (codegen/cpu/EmitEpoch.cpp)
/// against the step-by-step default of Executor::runSteps (each batch
/// gathered on the host and run with run()): the same losses, predictions
/// and parameters bit for bit, over a shuffled order with a partial last
/// batch, per-step learning rates, a run starting mid-epoch, and a
/// non-finite loss that ends the run after its step.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "passes/optim/Optimizer.h"
#include "runtime/Executor.h"

#include <numeric>

using namespace nn;
using namespace nn::test;

namespace {

const ExecutorOptions kNoCache = [] {
  ExecutorOptions o;
  o.cpu.noCache = true;
  return o;
}();

TensorMap initialState(const Graph &g) {
  ValueMap leaves = randomLeaves(g, 1, 3);
  TensorMap s;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Param && n.op != OpKind::State)
      continue;
    const Value &v = leaves.at(n.name);
    Tensor t(v.shape);
    for (size_t i = 0; i < v.data.size(); ++i)
      t.data[i] = static_cast<float>(v.data[i]);
    s[n.name] = std::move(t);
  }
  return s;
}

std::vector<uint32_t> bits(const std::vector<float> &v) {
  std::vector<uint32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

struct Fixture {
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  Tensor x{{150, 784}}, y{{150}};
  std::vector<int64_t> order = std::vector<int64_t>(150);

  Fixture() {
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<float> u(0, 1);
    for (float &v : x.data)
      v = u(rng);
    for (float &v : y.data)
      v = static_cast<float>(rng() % 10);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
  }

  StepsJob job(int64_t first, int64_t steps) const {
    StepsJob j;
    j.graph = &m.graph;
    j.x = &x;
    j.y = &y;
    j.order = &order;
    j.batch = 64;
    j.first = first;
    j.steps = steps;
    j.lrLeaf = kLrLeaf;
    for (int64_t k = 0; k < steps; ++k)
      j.lr.push_back(0.1 / static_cast<double>(first + k + 1));
    return j;
  }

  std::unique_ptr<Executor> executor() const {
    std::unique_ptr<Executor> ex = makeExecutor("cpu", m.graph, kNoCache);
    ex->setState(initialState(m.graph));
    ex->prepare(64);
    return ex;
  }
};

void expectSameRun(const StepsDone &got, const StepsDone &want,
                   const Executor &a, const Executor &b) {
  ASSERT_EQ(got.steps, want.steps);
  EXPECT_EQ(bits(got.loss), bits(want.loss));
  EXPECT_EQ(got.predWidth, want.predWidth);
  EXPECT_EQ(bits(got.pred), bits(want.pred));
  for (const auto &[name, t] : b.state())
    EXPECT_EQ(bits(a.state().at(name).data), bits(t.data)) << name;
}

TEST(CpuEpochProgram, StepsMatchTheStepByStepRunBitForBit) {
  Fixture f;
  std::unique_ptr<Executor> a = f.executor(), b = f.executor();
  ASSERT_TRUE(a->compiledSteps());
  // The epoch's three batches (the last of 22 rows), then a second pass
  // starting at its second batch, so that the state carries on.
  for (auto [first, steps] : {std::pair<int64_t, int64_t>{0, 3}, {1, 2}}) {
    StepsJob job = f.job(first, steps);
    StepsDone got = a->runSteps(job);
    StepsDone want = b->Executor::runSteps(job);
    expectSameRun(got, want, *a, *b);
    EXPECT_EQ(got.steps, steps);
    EXPECT_EQ(got.predWidth, 10);
    EXPECT_TRUE(std::isfinite(got.loss.back()));
  }
  // The lr of the last step is in the held state, as setScalar leaves it.
  EXPECT_EQ(a->state().at(kLrLeaf)[0], static_cast<float>(0.1 / 3));
}

TEST(CpuEpochProgram, NonFiniteLossEndsTheRunAfterItsStep) {
  Fixture f;
  f.x.data[f.order[64 + 5] * 784 + 17] = std::nanf(""); // in batch 1
  std::unique_ptr<Executor> a = f.executor(), b = f.executor();
  StepsJob job = f.job(0, 3);
  StepsDone got = a->runSteps(job);
  StepsDone want = b->Executor::runSteps(job);
  EXPECT_EQ(got.steps, 2);
  EXPECT_TRUE(std::isfinite(got.loss[0]));
  EXPECT_TRUE(std::isnan(got.loss[1]));
  expectSameRun(got, want, *a, *b);
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
