//===- TrainCommand.cpp - nnc train, nnc eval, nnc predict ----------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/EvalForm.h"
#include "passes/Fuse.h"
#include "passes/optim/Optimizer.h"
#include "runtime/AtomicFile.h"
#include "runtime/Batcher.h"
#include "runtime/DataParallel.h"
#include "runtime/Distributed.h"
#include "runtime/Executor.h"
#include "runtime/OutputPaths.h"
#include "runtime/ParamInit.h"
#include "runtime/Signals.h"
#include "runtime/Trainer.h"
#include "runtime/WeightsFile.h"
#include "tools/Driver.h"
#include "tools/TrainProgress.h"
#include "tools/teach/TrainingPlot.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/ThreadPool.h"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <numeric>

#include <unistd.h>

namespace nn {

namespace {

/// The model's parameters: from --init (or --weights) when given, else from
/// the initializers; optimizer state starts at zero.
TensorMap startingState(const Args &args, const Graph &step,
                        const Recipe &recipe, const char *flag) {
  TensorMap state = initState(step, recipe.seed);
  if (auto path = args.get(flag)) {
    LoadedWeights lw = loadWeights(*path, step, false);
    for (auto &[name, t] : lw.values)
      state[name] = t;
  }
  return state;
}

void printMetrics(const char *what, const Metrics &m) {
  std::cout << what << ": ";
  if (!std::isnan(m.accuracy))
    std::cout << "accuracy " << percent(m.accuracy) << "  ";
  std::printf("loss %.4f", m.loss);
  std::cout << "  (" << withCommas(static_cast<double>(m.samples))
            << " samples)" << std::endl;
}

/// Every file train writes, checked before any slow work: its directory
/// exists and is writable, and it is not an input or another output.
void checkTrainOutputs(const Args &args, const LoadedModel &m) {
  auto path = [&](const char *flag) { return args.get(flag).value_or(""); };
  std::vector<PathArg> inputs = {{"the model", m.path},
                                 {"--init", path("init")},
                                 {"--resume", path("resume")}};
  for (const DataSource *d : {&m.model.recipe.data, &m.model.recipe.test})
    if (d->format == DataSource::Format::Csv)
      inputs.push_back({"the data", d->path});
  checkOutputPaths(inputs,
                   {{"--save", path("save"), "the weights"},
                    {"--checkpoint", path("checkpoint"), "the checkpoint"},
                    {"--metrics", path("metrics"), "the metrics"},
                    {"--plot", path("plot"), "the plot"}},
                   {{"--checkpoint", "--resume"}}); // resuming where it left
}

/// The files of a finished (or interrupted) run: the weights first, then
/// the plot; a failure of one does not stop the other. Returns every failure
/// (the metrics' too) and what was and was not written; "" when none.
std::string writeTrainResults(const Args &args, const Graph &step,
                       const TrainResult &r, std::ostream *log) {
  std::vector<std::string> errors, written, lost;
  auto attempt = [&](const std::string &what, const std::string &path,
                     const std::function<void()> &write) {
    try {
      write();
      written.push_back(what + " '" + path + "'");
      if (log)
        *log << "wrote " << what << " to " << path << std::endl;
    } catch (const UserError &e) {
      errors.push_back(e.what());
      lost.push_back(what + " '" + path + "'");
    }
  };
  if (auto path = args.get("save"))
    attempt("the weights", *path, [&] {
      saveWeights(*path, step, r.state,
                  {{"steps", std::to_string(r.steps)},
                   {"epochs", std::to_string(r.epochs)}},
                  false);
    });
  if (auto path = args.get("plot"))
    attempt("the plot", *path, [&] {
      writeFileAtomic(*path, plotSvg(curvesFromHistory(r.history),
                                     step.name +
                                         ": loss and accuracy per epoch"));
    });
  if (!r.metricsError.empty()) {
    errors.push_back(r.metricsError);
    lost.push_back("the metrics '" + args.get("metrics").value_or("") +
                   "' (its lines stop where it failed)");
  }
  if (errors.empty())
    return "";
  auto join = [](const std::vector<std::string> &v, const char *sep) {
    std::string s;
    for (const std::string &x : v)
      s += (s.empty() ? "" : sep) + x;
    return s;
  };
  std::string note = "\nnnc: note: " +
                     (written.empty() ? std::string("nothing else written")
                                      : "written: " + join(written, ", ")) +
                     "; not written: " + join(lost, ", ");
  return join(errors, "\n") + note;
}

/// The executors' options: the environment's, then the flags (-v,
/// --no-cache, --sync, --precision, --threads).
ExecutorOptions trainExecutorOptions(const Args &args, bool tf32) {
  ExecutorOptions o = executorOptionsFromEnvironment();
  // The cpu backend: compile time and JIT cache hits on stderr with
  // --verbose; --no-cache compiles afresh and stores nothing.
  o.cpu.noCache = o.cuda.noCache = args.has("no-cache");
  o.cpu.verbose = o.cuda.verbose = args.has("verbose");
  o.cuda.sync = args.has("sync");
  o.cuda.tf32 = tf32; // only the cuda backend has tensor cores
#ifdef NNC_HAVE_CPU_BACKEND
  if (auto t = args.getInt("threads")) {
    if (*t < 1 || *t > 256)
      throw UserError("nnc: error: --threads must be from 1 to 256");
    setCpuThreads(static_cast<int>(*t));
  }
#endif
  return o;
}

/// The trainer's options from the flags; `model` is the .nn file's path.
TrainOptions trainOptions(const Args &args, const std::string &model,
                          const std::string &backend,
                          const ExecutorOptions &exec) {
  TrainOptions opts;
  opts.backend = backend;
  opts.executor = exec;
  opts.maxSteps = args.getInt("steps").value_or(-1);
  if (args.has("steps") && opts.maxSteps < 0)
    throw UserError("nnc: error: --steps must not be negative");
  opts.checkpointPath = args.get("checkpoint").value_or("");
  opts.resumePath = args.get("resume").value_or("");
  opts.metricsPath = args.get("metrics").value_or("");
  opts.checkNumerics = args.has("check-numerics");
  // Interrupted without --checkpoint: next to the model.
  std::string base = model;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".nn") == 0)
    base.resize(base.size() - 3);
  opts.interruptPath = base + ".interrupted.safetensors";
  return opts;
}

/// "training xor on cpu: 4 samples, batch 4, 500 epochs, sgd(...)".
std::string trainingHeader(const Graph &step, const std::string &backend,
                           const std::string &fallback, int64_t samples,
                           const Recipe &recipe) {
  int64_t held = static_cast<int64_t>(
      std::llround(recipe.validation * static_cast<double>(samples)));
  std::string line =
      fmt::format("training {} on {}{}: {} samples", step.name, backend,
                  fallback.empty() ? "" : " (" + fallback + ")",
                  withCommas(static_cast<double>(samples - held)));
  if (held)
    line += " (+" + withCommas(static_cast<double>(held)) + " for validation)";
  line += fmt::format(", batch {}, {} {}, {}", recipe.batch, recipe.epochs,
                      recipe.epochs == 1 ? "epoch" : "epochs",
                      describeOptimizer(recipe.optimizer));
  if (recipe.l2 > 0)
    line += ", l2 " + std::to_string(recipe.l2);
  return line;
}

/// The figures of the weights returned (the restored epoch's after early
/// stopping); the training loss when nothing is held out or tested.
void printFinalMetrics(const TrainResult &r,
                       const std::optional<Metrics> &tested) {
  if (!std::isnan(r.validation.loss))
    printMetrics("validation", r.validation);
  if (tested)
    printMetrics("test", *tested);
  else if (std::isnan(r.validation.loss) && r.train.samples > 0)
    printMetrics("train", r.train);
}

int runTrain(const Args &args) {
  // Under mpirun: one of N data-parallel processes (docs/distributed.md);
  // rank 0 alone prints and writes files.
  const World world = startWorld();
  bool writer = world.rank == 0;
  LoadedModel m = loadModel(args);
  Recipe &recipe = m.model.recipe;
  applyRecipeFlags(args, recipe);
  checkTrainOutputs(args, m);
  std::string fallback;
  std::string backend =
      resolveBackend(args.get("backend").value_or("auto"), &fallback);
  checkBackend(backend); // before any slow work
  bool tf32 = tf32Flag(args, backend);
  ExecutorOptions execOpts = trainExecutorOptions(args, tf32);

  PipelineOptions fuseOpts; // every fusion unless --fuse says otherwise
  if (auto f = args.get("fuse"))
    fuseOpts.fusions = parseFusionList(*f);
  Graph step = compileTo(m, Stage::Fused, fuseOpts);
  Graph eval = compileTo(m, Stage::Forward);
  Trainer trainer(step, eval, recipe, fuseOpts.fusions);
  std::optional<Graph> grads;
  if (world.size > 1) {
    PipelineOptions gradOpts = fuseOpts;
    gradOpts.gradientsOnly = true;
    grads = compileTo(m, Stage::Fused, gradOpts);
  }

  Dataset data = loadData(recipe.data);
  trainer.checkData(data);
  // Each process reads only its shard of the test data (all of it in one
  // process), checked before any slow work; a shard may be empty.
  std::optional<Dataset> test;
  if (recipe.test.format != DataSource::Format::None) {
    test = loadShard(recipe.test);
    if (test->size() > 0)
      trainer.checkData(*test);
  }

  TrainOptions opts = trainOptions(args, m.path, backend, execOpts);
  opts.gradients = grads ? &*grads : nullptr;
  std::ostream *log = args.has("quiet") || !writer ? nullptr : &std::cerr;
  // A progress bar only on a terminal; logs get plain lines.
  const char *term = std::getenv("TERM");
  TrainProgress progress(
      log, isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb"),
      useColor());
  opts.observer = &progress;

  TensorMap state = startingState(args, step, recipe, "init");
  if (log)
    *log << trainingHeader(step, backend, fallback, data.size(), recipe)
         << std::endl;
  TrainResult r = trainer.train(std::move(state), data, opts);
  if (log && !r.parallelSummary.empty())
    *log << "data-parallel: " << r.parallelSummary << std::endl;
  // Interrupted too: the user asked for these files, and r.state holds
  // what the trainer said it restored.
  std::string failed = writer ? writeTrainResults(args, step, r, log) : "";
  if (r.interrupted) {
    if (!failed.empty())
      throw UserError(failed);
    if (!log && writer) // the trainer said where its checkpoint is
      std::cerr << "nnc: interrupted; checkpoint written to "
                << r.interruptCheckpoint << std::endl;
    return kExitInterrupted;
  }

  // Every rank evaluates its shard of the test data; rank 0 prints.
  std::optional<Metrics> tested;
  if (test)
    tested = evaluateShard(trainer, r.state, *test, backend, execOpts);
  if (!writer)
    return 0;
  printFinalMetrics(r, tested);
  if (!failed.empty())
    throw UserError(failed);
  return 0;
}

/// The data set eval and predict read: --data, else the model's test data.
/// `featuresOnly` as for loadData (predict needs no labels).
Dataset evalData(const Args &args, const Recipe &recipe,
                 int64_t featuresOnly = -1) {
  if (auto v = args.get("data"))
    return loadData(
        dataSourceFromFlag(*v, recipe.test.format == DataSource::Format::None
                                   ? recipe.data
                                   : recipe.test),
        featuresOnly);
  if (recipe.test.format != DataSource::Format::None)
    return loadData(recipe.test, featuresOnly);
  throw UserError("nnc: error: no test data: give the model a 'test' line in "
                  "its train block, or pass --data PATH");
}

/// Row `r`'s label as predict prints it: "%g" (the first value of a
/// multi-value label, as before).
std::string labelText(const Tensor &y, int64_t r, int64_t rows) {
  int64_t width = rows ? y.numel() / rows : 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", double(y[r * width]));
  return buf;
}

/// --fuse of eval and predict: the fusions of the evaluation graph (every
/// one by default: batch norm folded into its convolution, conv + act).
std::set<std::string> evalFusions(const Args &args) {
  return parseFusionList(args.get("fuse").value_or("all"));
}

int runEval(const Args &args) {
  LoadedModel m = loadModel(args);
  Graph eval = evalForm(compileTo(m, Stage::Forward)); // eval mode
  Trainer trainer(eval, eval, m.model.recipe, evalFusions(args));
  if (!args.has("weights"))
    throw UserError("nnc: error: eval needs --weights FILE.safetensors");
  TensorMap state = startingState(args, eval, m.model.recipe, "weights");
  Dataset data = evalData(args, m.model.recipe);
  trainer.checkData(data);
  printMetrics("eval", trainer.evaluate(
                           state, data,
                           resolveBackend(args.get("backend").value_or("auto")),
                           executorOptionsFromEnvironment()));
  return 0;
}

int runPredict(const Args &args) {
  LoadedModel m = loadModel(args);
  Graph eval = evalForm(compileTo(m, Stage::Forward)); // eval mode
  Trainer trainer(eval, eval, m.model.recipe, evalFusions(args));
  if (!args.has("weights"))
    throw UserError("nnc: error: predict needs --weights FILE.safetensors");
  TensorMap state = startingState(args, eval, m.model.recipe, "weights");
  const Node &input = eval[eval.leaves(OpKind::Input).at(0)];
  Dataset data = evalData(args, m.model.recipe, input.type.numelPerSample());
  trainer.checkData(data);
  int64_t limit = args.getInt("limit").value_or(data.size());
  if (limit < 0)
    throw UserError("nnc: error: --limit must not be negative");
  limit = std::min(limit, data.size());

  FusionLog log;
  const Graph run = fuse(eval, evalFusions(args), log);
  std::unique_ptr<Executor> exec =
      makeExecutor(resolveBackend(args.get("backend").value_or("auto")), run,
                   executorOptionsFromEnvironment());
  exec->setState(state);
  std::vector<int64_t> rows(static_cast<size_t>(limit));
  std::iota(rows.begin(), rows.end(), 0);
  const Node &label = eval[eval.leaves(OpKind::Label).at(0)];
  std::cout << (label.labelKind == LabelKind::Real ? "row,prediction,label\n"
                                                   : "row,prediction,probability,label\n");
  Batcher batcher(data, rows, 256, false, 0);
  for (int64_t b = 0; b < batcher.batchesPerEpoch(); ++b) {
    Batch batch = batcher.get(0, b);
    Tensor pred = exec->run(bindBatch(run, batch.x, batch.y)).at("pred");
    int64_t width = pred.numel() / batch.size;
    std::string text; // one batch's rows, written and checked at once
    char buf[128];
    for (int64_t r = 0; r < batch.size; ++r) {
      int64_t row = b * 256 + r;
      const float *p = &pred.data[r * width];
      std::string y = data.hasLabels ? labelText(batch.y, r, batch.size) : "";
      switch (label.labelKind) {
      case LabelKind::Class: {
        int64_t best = std::max_element(p, p + width) - p;
        std::snprintf(buf, sizeof buf, "%lld,%lld,%.6f,%s\n", (long long)row,
                      (long long)best, p[best], y.c_str());
        break;
      }
      case LabelKind::Binary:
        std::snprintf(buf, sizeof buf, "%lld,%d,%.6f,%s\n", (long long)row,
                      p[0] > 0.5f ? 1 : 0, p[0], y.c_str());
        break;
      case LabelKind::Real:
        std::snprintf(buf, sizeof buf, "%lld,%g,%s\n", (long long)row, p[0],
                      y.c_str());
        break;
      }
      text += buf;
    }
    writeStdout(text); // a full disk stops the run here, with the reason
  }
  return 0;
}

std::vector<FlagSpec> trainFlags() {
  std::vector<FlagSpec> f = {
      {"backend", "NAME",
       "auto (default: cuda if a GPU is there, else cpu), cpu, cuda, interp"},
      {"init", "FILE", "start from these weights (safetensors)"},
      {"save", "FILE", "write the trained weights here (safetensors)"},
      {"checkpoint", "FILE", "write a checkpoint after every epoch"},
      {"resume", "FILE", "continue from a checkpoint, exactly"},
      {"steps", "N", "stop after N optimizer steps"},
      {"metrics", "FILE", "write per-epoch metrics as CSV"},
      {"plot", "FILE", "draw the loss and accuracy curves as SVG"},
      {"quiet", "", "print only the final results"},
      {"verbose", "", "report compile time and whether the JIT cache hit", 'v'},
      {"sync", "", "cuda: wait after every kernel, naming a failing one"},
      precisionFlag(),
      {"no-cache", "", "compile afresh: neither read nor write the JIT cache"},
      {"threads", "N",
       "cpu: threads of the compiled kernels (default: NNC_THREADS, else "
       "all; the results are the same bits for any N)"},
      {"fuse", "LIST",
       "fusions of the training step: all (default), none, or a comma list "
       "of conv, dense-grad, dense, softmax-xent, sigmoid-bce, sgd, "
       "elementwise"},
      {"check-numerics", "",
       "after every step, check every op's output for NaN and inf"},
  };
  for (const FlagSpec &r : recipeFlags())
    f.push_back(r);
  return f;
}

} // namespace

const Command &trainCommand() {
  static const Command c{"train", "train a model on its data", trainFlags(),
                         runTrain};
  return c;
}

const Command &evalCommand() {
  static const Command c{
      "eval",
      "loss and accuracy of trained weights on test data",
      {{"weights", "FILE", "the trained weights (safetensors)"},
       {"data", "PATH", "data to evaluate on (default: the model's test data)"},
       {"backend", "NAME", "auto (default), cpu, cuda or interp"},
       {"fuse", "LIST",
        "fusions of the evaluation graph: all (default), none, or a list"}},
      runEval};
  return c;
}

const Command &predictCommand() {
  static const Command c{
      "predict",
      "print the model's prediction for each sample, as CSV",
      {{"weights", "FILE", "the trained weights (safetensors)"},
       {"data", "PATH", "samples to predict (default: the model's test data)"},
       {"limit", "N", "only the first N samples"},
       {"backend", "NAME", "auto (default), cpu, cuda or interp"},
       {"fuse", "LIST",
        "fusions of the evaluation graph: all (default), none, or a list"}},
      runPredict};
  return c;
}

} // namespace nn
