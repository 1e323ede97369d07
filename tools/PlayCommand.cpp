//===- PlayCommand.cpp - nnc play -----------------------------------------===//
///
/// \file
/// `nnc play model.nn -o play.html`: trains the model as `nnc train` does
/// (the same trainer, backend and recipe flags), keeps its parameters at up
/// to --frames moments (runtime/FrameRecorder.h), then computes what the
/// page draws at each: every layer over a grid of the input plane by the
/// backend's compiled forward function (runtime/PlaneModel.h) and one
/// training step as scalar arithmetic; tools/teach/PlayPage.cpp writes the
/// page, atomically.
///
/// Algorithm: the frame cap is the smaller of --frames and what keeps the
/// maps under a budget of about 4 MB (a map is n x n floats a unit).
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/EvalForm.h"
#include "passes/optim/Optimizer.h"
#include "runtime/AtomicFile.h"
#include "runtime/LrSchedule.h"
#include "runtime/OutputPaths.h"
#include "runtime/ParamInit.h"
#include "runtime/ScalarStep.h"
#include "runtime/Signals.h"
#include "runtime/Trainer.h"
#include "runtime/WeightsFile.h"
#include "tools/Driver.h"
#include "tools/TrainProgress.h"
#include "tools/teach/Explain.h"
#include "tools/teach/Play.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

namespace nn {

namespace {

constexpr int64_t kMapBudget = 4 << 20;  // bytes of maps in the page
constexpr size_t kStepBudget = 3 << 19;  // bytes of written-out steps

int64_t intFlag(const Args &args, const char *flag, int64_t dflt, int64_t lo,
                int64_t hi) {
  int64_t v = args.getInt(flag).value_or(dflt);
  if (v < lo || v > hi)
    throw UserError(fmt::format("nnc: error: --{} must be from {} to {}", flag,
                                lo, hi));
  return v;
}

bool sameParams(const Graph &g, const TensorMap &a, const TensorMap &b) {
  for (NodeId id : g.leaves(OpKind::Param))
    if (a.at(g[id].name).data != b.at(g[id].name).data)
      return false;
  return true;
}

/// When early stopping put back an earlier epoch's weights, that state as
/// the last moment (marked as restored).
void addRestored(FrameRecorder &rec, const Graph &step, const TrainResult &r) {
  if (sameParams(step, rec.frames.back().state, r.state))
    return;
  int64_t at = r.steps;
  for (const EpochStats &e : rec.history)
    if (e.epoch == r.bestEpoch)
      at = e.steps;
  rec.frames.push_back({r.bestEpoch, at, 0, r.state, true});
}

/// The training data, cut to its first --limit rows.
Dataset playData(const Args &args, const Recipe &recipe) {
  if (recipe.data.path.empty())
    throw UserError("nnc: error: the model names no training data: give it "
                    "a 'data' line in its train block, or pass --data PATH");
  Dataset data = loadData(recipe.data);
  if (auto limit = args.getInt("limit")) {
    if (*limit < 1)
      throw UserError("nnc: error: --limit must be at least 1");
    if (*limit < data.size()) {
      std::vector<int64_t> rows(static_cast<size_t>(*limit));
      std::iota(rows.begin(), rows.end(), 0);
      data = selectRows(data, rows);
    }
  }
  return data;
}

/// Why the plane cannot be drawn, "" when it can.
std::string whyNoPlane(const Graph &eval) {
  std::vector<NodeId> inputs = eval.leaves(OpKind::Input);
  if (inputs.size() != 1)
    return "the model has " + std::to_string(inputs.size()) + " inputs";
  const Node &x = eval[inputs[0]];
  int64_t width = x.type.numelPerSample();
  if (x.type.rank() != 2 || width != 2)
    return fmt::format(
        "its input '{}' is {}: {} values a sample, not two, so a sample is "
        "not a point of a plane that could be coloured by the prediction",
        x.name, x.type.str(), withCommas(static_cast<double>(width)));
  return "";
}

/// Every layer over the grid at every frame, by `backend`'s compiled code.
void planeFrames(PlayRun &run, const Graph &eval, const ExecutorOptions &o) {
  run.pm = planeModel(evalForm(eval));
  run.grid = makeGrid(planeBox(run.dataX), run.grid.n);
  std::unique_ptr<Executor> exec = makeExecutor(run.backend, run.pm.graph, o);
  for (const RecordedState &f : run.frames)
    run.maps.push_back(planeMaps(*exec, run.pm, f.state, run.grid.points));
}

/// The first matmul's weights, for a model the plane cannot show.
void firstLayer(PlayRun &run, const Graph &eval) {
  PlaneModel pm = planeModel(evalForm(eval));
  for (const PlaneLayer &l : pm.layers)
    if (l.from == -1 && !l.weight.empty()) {
      run.weight = l.weight;
      run.in = pm.inputWidth;
      run.out = l.width;
      return;
    }
}

/// One step from each frame's parameters, written out (explain --scalar);
/// for every k-th frame only (and the last) when all of them would pass
/// kStepBudget.
void scalarFrames(PlayRun &run, const LoadedModel &m, const Graph &step) {
  int64_t params = 0;
  for (NodeId id : step.leaves(OpKind::Param))
    params += step[id].type.numel();
  if (params > 64) {
    run.scalarNote = fmt::format(
        "one step is written out for models of at most 64 parameters; {} "
        "has {} (nnc explain shows its equations per layer)",
        step.name, withCommas(static_cast<double>(params)));
    return;
  }
  try {
    ScalarLimits limits;
    std::vector<int64_t> rows;
    ValueMap leaves = firstStepLeaves(m, step, limits.maxBatch, &rows);
    size_t every = 0, count = run.frames.size();
    for (size_t i = 0; i < count; ++i) {
      const RecordedState &f = run.frames[i];
      if (every > 1 && i % every != 0 && i + 1 != count) {
        run.scalar.push_back("");
        continue;
      }
      for (const auto &[name, t] : f.state)
        leaves[name] = toValue(t);
      if (leaves.count(kLrLeaf))
        leaves[kLrLeaf].data[0] = static_cast<float>(
            scheduledLr(m.model.recipe, f.step, f.epoch));
      run.scalar.push_back(
          scalarLeavesText(step, leaves, rows.size()) +
          scalarStepText(scalarStep(step, leaves, limits),
                         m.model.recipe.optimizer));
      if (i == 0) { // the first tells the size of each
        every = (run.scalar[0].size() * count + kStepBudget - 1) / kStepBudget;
        if (every > 1)
          run.scalarNote = fmt::format(
              "one step is written out for moments 1, {}, {}, ... (one in "
              "{}) and the last, so that the page stays small",
              every + 1, 2 * every + 1, every);
      }
    }
  } catch (const UserError &e) {
    run.scalar.clear();
    run.scalarNote = e.what();
  }
}

/// The frame cap: --frames, and no more than the maps' budget allows.
int64_t frameCap(const Args &args, const Graph &eval, int64_t n, bool plane) {
  int64_t cap = intFlag(args, "frames", 61, 2, 1001);
  if (!plane)
    return std::min<int64_t>(cap, 20); // weight images are big
  // Base64 of the prediction's floats and of the hidden units' bytes.
  PlaneModel pm = planeModel(evalForm(eval));
  int64_t m = hiddenSide(n), perFrame = pm.layers.back().width * n * n * 16 / 3;
  for (size_t l = 0; l + 1 < pm.layers.size(); ++l)
    perFrame += pm.layers[l].width * m * m * 4 / 3;
  return std::clamp<int64_t>(kMapBudget / std::max<int64_t>(perFrame, 1), 2,
                             cap);
}

int runPlay(const Args &args) {
  LoadedModel m = loadModel(args);
  Recipe &recipe = m.model.recipe;
  applyRecipeFlags(args, recipe);
  auto out = args.get("output");
  if (!out)
    throw UserError("nnc: error: nnc play needs -o FILE.html");
  std::vector<PathArg> inputs = {{"the model", m.path}};
  if (recipe.data.format == DataSource::Format::Csv)
    inputs.push_back({"the data", recipe.data.path});
  checkOutputPaths(inputs, {{"--output", *out, "the page"},
                            {"--save", args.get("save").value_or(""),
                             "the weights"}});
  PlayRun run;
  run.backend = resolveBackend(args.get("backend").value_or("auto"));
  checkBackend(run.backend);
  run.grid.n = intFlag(args, "grid", 64, 8, 256);
  ExecutorOptions execOpts = executorOptionsFromEnvironment();

  Graph step = compileTo(m, Stage::Fused);
  Graph eval = compileTo(m, Stage::Forward);
  Trainer trainer(step, eval, recipe);
  Dataset data = playData(args, recipe);
  trainer.checkData(data);
  run.model = step.name;
  run.path = m.path;
  run.why = whyNoPlane(eval);
  run.plane = run.why.empty();
  const Node &label = eval[eval.leaves(OpKind::Label).at(0)];
  run.labelKind = label.labelKind;
  run.classes = label.classes;

  std::ostream *log = args.has("quiet") ? nullptr : &std::cerr;
  TrainProgress progress(log, false, false);
  FrameRecorder rec(recipe.epochs, frameCap(args, eval, run.grid.n, run.plane),
                    args.has("verbose") ? &progress : nullptr);
  TrainOptions opts;
  opts.backend = run.backend;
  opts.executor = execOpts;
  opts.observer = &rec;
  TensorMap state = initState(step, recipe.seed);
  rec.start(state);
  if (log)
    *log << fmt::format("training {} on {}: {} samples, {} epoch{}\n", step.name,
                        run.backend, withCommas(double(data.size())),
                        recipe.epochs, recipe.epochs == 1 ? "" : "s");
  TrainResult r = trainer.train(std::move(state), data, opts);
  if (r.interrupted) {
    std::cerr << "nnc: interrupted: no page written\n";
    return kExitInterrupted;
  }
  addRestored(rec, step, r);
  run.perEpoch = rec.batchesPerEpoch();
  run.frames = std::move(rec.frames);
  run.history = std::move(rec.history);
  run.dataX = data.x;
  run.dataY = data.y;
  if (run.plane)
    planeFrames(run, eval, execOpts);
  else
    firstLayer(run, eval);
  scalarFrames(run, m, step);

  std::string page = playHtml(run);
  if (auto path = args.get("save"))
    saveWeights(*path, step, r.state,
                {{"steps", std::to_string(r.steps)},
                 {"epochs", std::to_string(r.epochs)}},
                false);
  writeFileAtomic(*out, page);
  if (log)
    *log << "wrote " << *out << " (" << withCommas(double(page.size()))
         << " bytes, " << run.frames.size() << " moments)\n";
  return 0;
}

} // namespace

const Command &playCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"output", "FILE", "the HTML page to write", 'o'},
        {"backend", "NAME",
         "auto (default: cuda if a GPU is there, else cpu), cpu, cuda, interp"},
        {"frames", "N",
         "at most N moments to scrub through, the start included (default "
         "61; fewer when the maps would make the page big)"},
        {"grid", "N", "the plane's maps are N x N points (default 64)"},
        {"limit", "N", "train on the first N samples only"},
        {"save", "FILE", "write the trained weights here (safetensors)"},
        {"quiet", "", "print nothing but errors"},
        {"verbose", "", "print every epoch's metrics", 'v'}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"play",
                   "a playground page: watch the model learn, moment by "
                   "moment, its units' maps over the input plane",
                   flags, runPlay};
  }();
  return c;
}

} // namespace nn
