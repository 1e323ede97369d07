//===- PlayFramesTest.cpp - The frames nnc play records -------------------===//
///
/// \file
/// `nnc play` keeps a run's parameters at chosen epochs (FrameRecorder) and
/// draws every layer over a grid of the input plane by the compiled forward
/// function (PlaneModel). These tests train xor for a few epochs and hold
/// the recorded moments and the grid's values against what they stand for:
/// the epochs kept, the last moment equal to the trained state, the
/// prediction map equal to the forward graph `nnc predict` runs (same
/// backend, the same bits), the hidden map equal to tanh(x W + b) in double,
/// and the compiled CPU backend's maps equal to the interpreter's.
///
//===----------------------------------------------------------------------===//

#include "ExampleStep.h"

#include "frontend/Frontend.h"
#include "passes/EvalForm.h"
#include "passes/Pipeline.h"
#include "runtime/Dataset.h"
#include "runtime/Executor.h"
#include "runtime/FrameRecorder.h"
#include "runtime/ParamInit.h"
#include "runtime/PlaneModel.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

using namespace nn;

namespace {

struct Xor {
  Graph step, forward;
  Recipe recipe;
  Dataset data;
};

Xor loadXor() {
  Model m = test::parseExample("xor.nn");
  DiagEngine diags;
  Xor x;
  x.recipe = m.recipe;
  x.step = runPipeline(m.graph, m.recipe, Stage::Fused, {}, diags);
  x.forward = runPipeline(m.graph, m.recipe, Stage::Forward, {}, diags);
  x.data = loadCsv(std::string(NNC_SOURCE_DIR) + "/examples/data/xor.csv", "y");
  return x;
}

/// Trains xor for `epochs` on `backend`, keeping at most `frames` moments
/// (batch `batch`, stopping after `steps` when not -1).
FrameRecorder train(const Xor &x, int64_t epochs, int64_t frames,
                    const std::string &backend, TrainResult *result,
                    int64_t batch = 4, int64_t steps = -1) {
  Recipe r = x.recipe;
  r.epochs = epochs;
  r.batch = batch;
  FrameRecorder rec(epochs, frames, nullptr);
  TrainOptions opts;
  opts.backend = backend;
  opts.observer = &rec;
  opts.maxSteps = steps;
  TensorMap state = initState(x.step, r.seed);
  rec.start(state);
  *result = Trainer(x.step, x.forward, r).train(state, x.data, opts);
  return rec;
}

bool haveCpu() {
  std::vector<std::string> b = backendNames();
  return std::find(b.begin(), b.end(), "cpu") != b.end();
}

} // namespace

TEST(PlayFrames, StrideKeepsTheLastEpoch) {
  EXPECT_EQ(frameStride(300, 101), 3);
  EXPECT_EQ(frameStride(10, 100), 1);
  EXPECT_EQ(frameStride(10, 4), 4);
  EXPECT_EQ(frameStride(1, 2), 1);
}

TEST(PlayFrames, RecordsTheChosenEpochsAndTheFinalState) {
  Xor x = loadXor();
  TrainResult r;
  FrameRecorder rec = train(x, 10, 4, "interp", &r);
  std::vector<int64_t> epochs;
  for (const RecordedState &f : rec.frames)
    epochs.push_back(f.epoch);
  EXPECT_EQ(epochs, (std::vector<int64_t>{0, 4, 8, 10}));
  EXPECT_EQ(rec.history.size(), 10u);
  EXPECT_EQ(rec.frames[2].step, rec.history[7].steps);
  for (const auto &[name, t] : r.state)
    EXPECT_EQ(rec.frames.back().state.at(name).data, t.data) << name;
  // Frame 0 is the initial state: not the trained one.
  EXPECT_NE(rec.frames[0].state.at("hidden.weight").data,
            r.state.at("hidden.weight").data);
}

TEST(PlayFrames, FindsTheLayersOfXor) {
  Xor x = loadXor();
  PlaneModel pm = planeModel(evalForm(x.forward));
  ASSERT_EQ(pm.layers.size(), 2u);
  EXPECT_EQ(pm.input, "x");
  EXPECT_EQ(pm.inputWidth, 2);
  EXPECT_EQ(pm.layers[0].name, "hidden");
  EXPECT_EQ(pm.layers[0].width, 4);
  EXPECT_EQ(pm.layers[0].weight, "hidden.weight");
  EXPECT_EQ(pm.layers[0].from, -1);
  EXPECT_EQ(pm.layers[1].name, "pred");
  EXPECT_EQ(pm.layers[1].width, 1);
  EXPECT_EQ(pm.layers[1].weight, "out.weight");
  EXPECT_EQ(pm.layers[1].from, 0);
  EXPECT_TRUE(pm.graph.leaves(OpKind::Label).empty());
}

TEST(PlayFrames, GridValuesAreTheForwardFunctionsOutputs) {
  Xor x = loadXor();
  TrainResult r;
  FrameRecorder rec = train(x, 20, 5, "interp", &r);
  PlaneModel pm = planeModel(evalForm(x.forward));
  PlaneGrid grid = makeGrid(planeBox(x.data.x), 16);
  EXPECT_FLOAT_EQ(grid.points[0], grid.xs[0]);
  EXPECT_FLOAT_EQ(grid.points[1], grid.ys[0]);
  EXPECT_GT(grid.ys[0], grid.ys[15]); // top row first
  EXPECT_NEAR(grid.xs[0], -0.1, 1e-6);
  EXPECT_NEAR(grid.xs[15], 1.1, 1e-6);

  std::unique_ptr<Executor> plane = makeExecutor("interp", pm.graph);
  // The graph nnc predict runs, with labels bound (zeros).
  Graph eval = evalForm(x.forward);
  std::unique_ptr<Executor> full = makeExecutor("interp", eval);
  Tensor zeros({grid.n * grid.n});
  for (const RecordedState &f : rec.frames) {
    std::vector<Tensor> maps = planeMaps(*plane, pm, f.state, grid.points);
    ASSERT_EQ(maps.size(), 2u);
    TensorMap params;
    for (NodeId id : eval.leaves(OpKind::Param))
      params[eval[id].name] = f.state.at(eval[id].name);
    full->setState(params);
    Tensor pred =
        full->run(bindBatch(eval, grid.points, zeros)).at("pred");
    EXPECT_EQ(maps[1].data, pred.data) << "epoch " << f.epoch;
    // The hidden map is tanh(x W + b) of that moment's parameters.
    const Tensor &w = f.state.at("hidden.weight"), &b = f.state.at("hidden.bias");
    double worst = 0;
    for (int64_t p = 0; p < grid.n * grid.n; ++p)
      for (int64_t u = 0; u < 4; ++u) {
        double z = b[u] + double(grid.points[p * 2]) * w[u] +
                   double(grid.points[p * 2 + 1]) * w[4 + u];
        worst = std::max(worst, std::fabs(std::tanh(z) - maps[0][p * 4 + u]));
      }
    EXPECT_LT(worst, 1e-6) << "epoch " << f.epoch;
  }
}

TEST(PlayFrames, CompiledMapsMatchTheInterpreter) {
  if (!haveCpu())
    GTEST_SKIP() << "the CPU backend is not built in";
  Xor x = loadXor();
  TrainResult r;
  FrameRecorder rec = train(x, 30, 4, "cpu", &r);
  EXPECT_EQ(rec.frames.size(), 4u);
  // The compiled epoch program wrote each moment's parameters back.
  for (const auto &[name, t] : r.state)
    EXPECT_EQ(rec.frames.back().state.at(name).data, t.data) << name;
  EXPECT_NE(rec.frames[1].state.at("out.weight").data,
            rec.frames[2].state.at("out.weight").data);
  PlaneModel pm = planeModel(evalForm(x.forward));
  PlaneGrid grid = makeGrid(planeBox(x.data.x), 64);
  std::unique_ptr<Executor> cpu = makeExecutor("cpu", pm.graph);
  std::unique_ptr<Executor> interp = makeExecutor("interp", pm.graph);
  for (const RecordedState &f : rec.frames) {
    std::vector<Tensor> a = planeMaps(*cpu, pm, f.state, grid.points);
    std::vector<Tensor> b = planeMaps(*interp, pm, f.state, grid.points);
    for (size_t l = 0; l < a.size(); ++l) {
      ASSERT_EQ(a[l].shape, b[l].shape);
      for (size_t i = 0; i < a[l].data.size(); ++i)
        ASSERT_NEAR(a[l].data[i], b[l].data[i], 1e-5)
            << "layer " << l << " value " << i << " epoch " << f.epoch;
    }
  }
}

// A run of few epochs keeps every epoch's end and every k-th step between,
// each the state a run stopped at that step ends with (--steps), on the
// interpreter's step loop and the CPU backend's runs of steps alike.
TEST(PlayFrames, FewEpochsKeepEveryKthStep) {
  Xor x = loadXor();
  std::vector<std::string> backends = {"interp"};
  if (haveCpu())
    backends.push_back("cpu");
  for (const std::string &b : backends) {
    TrainResult r;
    FrameRecorder rec = train(x, 2, 6, b, &r, 1); // 4 steps an epoch
    std::vector<std::vector<int64_t>> got;
    for (const RecordedState &f : rec.frames)
      got.push_back({f.epoch, f.batch, f.step});
    EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{
                       {0, 0, 0}, {0, 3, 3}, {1, 0, 4}, {1, 2, 6}, {2, 0, 8}}))
        << b;
    for (const RecordedState &f : rec.frames) {
      if (f.step == 0)
        continue;
      TrainResult cut;
      train(x, 2, 6, b, &cut, 1, f.step);
      for (const auto &[name, t] : cut.state)
        EXPECT_EQ(f.state.at(name).data, t.data)
            << b << ": " << name << " after step " << f.step;
    }
  }
}
