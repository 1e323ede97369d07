//===- epoch.cpp - Runs of training steps: compiled vs host loop ----------===//
///
/// \file
/// nnc_epoch (Google Benchmark): 64 mnist_mlp training steps at batch 64 on
/// the cpu backend, run the two ways the trainer can: one call into the
/// generated `<symbol>_steps` (the batch gathered by the shuffled index
/// list in generated code; Executor::runSteps), or the host loop the
/// trainer ran per step (gather and bind the batch, set the lr, run(), copy
/// the outputs out: Executor's default runSteps). Both count the accuracy
/// of each step on the host, as the trainer does. Per step, the difference
/// is the host overhead the epoch program removes. Run with
///   build/benchmarks/nnc_epoch --benchmark_repetitions=10 \
///     --benchmark_enable_random_interleaving=true
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "passes/Pipeline.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Executor.h"
#include "runtime/ParamInit.h"
#include "runtime/Trainer.h"

#include <benchmark/benchmark.h>

#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

using namespace nn;

namespace {

constexpr int64_t kRows = 8192, kBatch = 64, kSteps = 64;

struct Setup {
  Graph g;
  Tensor x{{kRows, 784}}, y{{kRows}};
  std::vector<int64_t> order = std::vector<int64_t>(kRows);

  Setup() {
    std::string path = std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    DiagEngine diags;
    diags.addSource(path, text.str());
    std::optional<Model> m = parseModel(path, text.str(), diags);
    g = runPipeline(m->graph, m->recipe, Stage::Fused, PipelineOptions{},
                    diags);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<float> u(0, 1);
    for (float &v : x.data)
      v = u(rng);
    for (float &v : y.data)
      v = static_cast<float>(rng() % 10);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
  }
};

const Setup &setup() {
  static const Setup s;
  return s;
}

/// Arg: 1 the generated run of steps, 0 the host loop.
void BM_Steps(benchmark::State &state) {
  const Setup &s = setup();
  std::unique_ptr<Executor> ex = makeExecutor("cpu", s.g);
  ex->setState(initState(s.g, 42));
  ex->prepare(kBatch);
  if (!ex->compiledSteps()) {
    state.SkipWithError("no compiled steps");
    return;
  }
  StepsJob job;
  job.graph = &s.g;
  job.x = &s.x;
  job.y = &s.y;
  job.order = &s.order;
  job.batch = kBatch;
  job.steps = kSteps;
  job.lrLeaf = kLrLeaf;
  job.lr.assign(kSteps, 0.01);
  int64_t correct = 0;
  for (auto _ : state) {
    StepsDone d = state.range(0) ? ex->runSteps(job)
                                 : ex->Executor::runSteps(job);
    for (int64_t k = 0; k < d.steps; ++k) {
      Tensor pred({kBatch, d.predWidth});
      std::copy_n(d.pred.data() + k * kBatch * d.predWidth, pred.numel(),
                  pred.data.data());
      Tensor labels({kBatch});
      for (int64_t r = 0; r < kBatch; ++r)
        labels.data[r] = s.y[s.order[(job.first + k) * kBatch + r]];
      correct += countCorrect(s.g, pred, labels);
    }
    job.first = (job.first + kSteps) % (kRows / kBatch);
  }
  benchmark::DoNotOptimize(correct);
  state.counters["time/step"] = benchmark::Counter(
      double(kSteps) * double(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_Steps)
    ->ArgName("compiled")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
