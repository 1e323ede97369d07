//===- Pipeline.cpp - The pass pipeline -----------------------------------===//
///
/// \file
/// Algorithm: a flat list of (name, stage, pass) steps run in order up to
/// the requested stage. After each step the graph is verified (a failure is
/// a bug in that pass) and, when asked, printed if its text changed.
///
//===----------------------------------------------------------------------===//

#include "passes/Pipeline.h"
#include "passes/AddL2.h"
#include "passes/Autodiff.h"
#include "passes/CSE.h"
#include "passes/CheckModel.h"
#include "passes/DCE.h"
#include "passes/InferShapes.h"
#include "passes/StableLosses.h"
#include "passes/optim/Optimizer.h"

#include "ir/Printer.h"
#include "ir/Support.h"
#include "ir/Verifier.h"

#include <algorithm>
#include <functional>

namespace nn {

const std::vector<std::string> &passNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"infer-shapes", "stable-losses", "add-l2",
                                    "differentiate", "cse", "dce"};
    for (const FusionInfo &f : fusionTable())
      out.push_back(f.passName());
    return out;
  }();
  return names;
}

namespace {

struct Step {
  std::string name;
  Stage stage; // the stage this step belongs to
  std::function<Graph(const Graph &)> run;
};

std::string joined(const std::vector<std::string> &errs) {
  std::string s;
  for (const std::string &e : errs)
    s += "\n  " + e;
  return s;
}

} // namespace

Graph runPipeline(const Graph &lowered, const Recipe &recipe, Stage stop,
                  const PipelineOptions &opts, DiagEngine &diags) {
  for (const std::string &name : opts.printAfter)
    if (std::find(passNames().begin(), passNames().end(), name) ==
        passNames().end()) {
      std::string msg = "error: unknown pass '" + name + "' in --print-after";
      std::string near = closestMatch(name, passNames());
      if (!near.empty())
        msg += " (did you mean '" + near + "'?)";
      throw UserError(msg);
    }

  VerifyOptions untyped;
  untyped.requireTypes = false;
  std::vector<std::string> errs = verifyGraph(lowered, untyped);
  if (!errs.empty())
    throw UserError("error: invalid input graph:" + joined(errs));

  for (const std::string &f : opts.fusions)
    checkFusionName(f);
  FusionLog scratchLog;
  FusionLog &fusionLog = opts.fusionLog ? *opts.fusionLog : scratchLog;

  auto infer = [&](const Graph &g) { return inferShapes(g, diags); };
  auto checkIfAsked = [&](const Graph &g) {
    if (opts.checkModel)
      checkModel(g, diags);
    return g;
  };
  std::vector<Step> steps = {
      {"infer-shapes", Stage::Forward, infer},
      {"check-model", Stage::Forward, checkIfAsked},
      {"stable-losses", Stage::Forward, stableLosses},
      {"add-l2", Stage::Grad,
       [&](const Graph &g) { return addL2(g, recipe.l2); }},
      {"differentiate", Stage::Grad,
       [&](const Graph &g) {
         return opts.gradientsOnly
                    ? differentiate(g)
                    : applyOptimizer(differentiate(g), recipe.optimizer);
       }},
      {"infer-shapes", Stage::Grad, infer},
      {"cse", Stage::Opt, cse},
      {"dce", Stage::Opt, dce},
  };
  // The fusion table's passes, each only when its fusion is enabled.
  for (const FusionInfo &f : fusionTable())
    steps.push_back({f.passName(), Stage::Fused,
                     [&opts, &fusionLog, f](const Graph &g) {
                       return opts.fusions.count(f.name) ? f.pass(g, fusionLog)
                                                         : g;
                     }});
  steps.push_back({"dce", Stage::Fused, dce});

  Graph g = lowered;
  for (const Step &step : steps) {
    if (static_cast<int>(step.stage) > static_cast<int>(stop))
      break;
    bool print = opts.log &&
                 (opts.printAfterAll ||
                  std::find(opts.printAfter.begin(), opts.printAfter.end(),
                            step.name) != opts.printAfter.end());
    std::string before = print ? printGraph(g, opts.print) : "";
    g = step.run(g);
    errs = verifyGraph(g);
    if (!errs.empty())
      throw InternalError("pass '" + step.name +
                          "' produced an invalid graph:" + joined(errs));
    if (print) {
      std::string after = printGraph(g, opts.print);
      if (after != before)
        *opts.log << "# after " << step.name << "\n" << after;
    }
  }
  return g;
}

} // namespace nn
