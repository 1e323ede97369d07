//===- GradcheckCommand.cpp - nnc gradcheck -------------------------------===//
///
/// \file
/// Checks the autodiff pass on a whole model: the gradient of the training
/// loss (with its L2 term) for every parameter, against central differences
/// in double on the reference interpreter, on the first samples of the data.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "passes/AddL2.h"
#include "runtime/Batcher.h"
#include "runtime/GradCheck.h"
#include "runtime/Interpreter.h"
#include "runtime/ParamInit.h"
#include "runtime/Trainer.h"
#include "runtime/WeightsFile.h"
#include "tools/Driver.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <numeric>

namespace nn {

namespace {

/// The report of `nnc gradcheck`: a table by parameter, the kinks, the
/// mismatches and a verdict.
void printGradcheck(const Graph &g, int64_t samples,
                    const GradCheckReport &rep) {
  struct Stats {
    int checked = 0, failed = 0, kinks = 0;
    double maxAbs = 0, maxRel = 0;
  };
  std::map<std::string, Stats> byParam;
  for (const GradCheckEntry &e : rep.entries) {
    Stats &s = byParam[e.param];
    ++s.checked;
    s.failed += !e.ok;
    s.kinks += e.kink;
    if (e.kink)
      continue; // its central difference straddles the kink
    double abs = std::fabs(e.analytic - e.numeric);
    s.maxAbs = std::max(s.maxAbs, abs);
    s.maxRel = std::max(s.maxRel, abs / std::max(std::fabs(e.numeric), 1e-12));
  }
  std::printf("gradient check of %s: %lld samples, central differences "
              "(eps 1e-6, atol 1e-5, rtol 1e-3)\n",
              g.name.c_str(), static_cast<long long>(samples));
  std::printf("%-28s %8s %12s %12s  %s\n", "param", "checked", "max abs err",
              "max rel err", "result");
  for (const auto &[name, s] : byParam) {
    std::string result = s.failed ? "FAIL" : "ok";
    if (s.kinks)
      result += " (" + std::to_string(s.kinks) + " at kinks)";
    std::printf("%-28s %8d %12.3g %12.3g  %s\n", name.c_str(), s.checked,
                s.maxAbs, s.maxRel, result.c_str());
  }
  int shownKinks = 0;
  for (const GradCheckEntry &e : rep.entries)
    if (e.kink && shownKinks++ < 10)
      std::printf("  kink: %s[%lld]: autodiff %.9g, one-sided differences "
                  "%.9g (left) and %.9g (right)\n",
                  e.param.c_str(), static_cast<long long>(e.index), e.analytic,
                  e.left, e.right);
  if (rep.kinks)
    std::printf("note: %d %s at a non-differentiable point (a kink, such as "
                "relu at 0), where autodiff takes one side's derivative as "
                "PyTorch does; not failures\n",
                rep.kinks, rep.kinks == 1 ? "gradient is" : "gradients are");
  for (const GradCheckEntry &e : rep.entries)
    if (!e.ok)
      std::printf("  mismatch: %s[%lld]: autodiff %.9g, numeric %.9g\n",
                  e.param.c_str(), static_cast<long long>(e.index), e.analytic,
                  e.numeric);
  std::printf("%s: %zu gradients checked, %d failed\n",
              rep.failures ? "FAILED" : "passed", rep.entries.size(),
              rep.failures);
}

int runGradcheck(const Args &args) {
  LoadedModel m = loadModel(args);
  Recipe &recipe = m.model.recipe;
  applyRecipeFlags(args, recipe);
  Graph fwd = compileTo(m, Stage::Forward);
  Graph g = addL2(fwd, recipe.l2);

  int64_t samples = args.getInt("samples").value_or(4);
  int64_t perParam = args.getInt("per-param").value_or(20);
  if (samples < 1)
    throw UserError("nnc: error: --samples must be at least 1");
  if (perParam < 1)
    throw UserError("nnc: error: --per-param must be at least 1");

  Dataset data = loadData(recipe.data);
  Trainer(fwd, fwd, recipe).checkData(data);
  samples = std::min(samples, data.size());
  std::vector<int64_t> rows(static_cast<size_t>(samples));
  std::iota(rows.begin(), rows.end(), 0);
  Batch batch = Batcher(data, rows, samples, false, 0).get(0, 0);

  TensorMap state = initState(g, recipe.seed);
  if (auto path = args.get("init"))
    for (auto &[name, t] : loadWeights(*path, g, false).values)
      state[name] = t;
  ValueMap leaves;
  for (auto &[name, t] : state)
    leaves[name] = toValue(t);
  for (auto &[name, t] : bindBatch(g, batch.x, batch.y))
    leaves[name] = toValue(t);

  GradCheckReport rep = gradCheck(g, leaves, static_cast<int>(perParam));
  printGradcheck(g, samples, rep);
  return rep.failures ? 1 : 0;
}

} // namespace

const Command &gradcheckCommand() {
  static std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> f = {
        {"samples", "N", "samples from the data (default 4)"},
        {"per-param", "N", "elements checked per parameter (default 20)"},
        {"init", "FILE", "weights to check at (default: the initializers)"}};
    for (const FlagSpec &r : recipeFlags())
      f.push_back(r);
    return f;
  }();
  static const Command c{"gradcheck",
                         "check autodiff against central differences", flags,
                         runGradcheck};
  return c;
}

} // namespace nn
