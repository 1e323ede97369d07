//===- GraphCommand.cpp - nnc graph ---------------------------------------===//
///
/// \file
/// `nnc graph model.nn --stage=forward|grad|fused [-o FILE] [--values]`: the
/// graph of a stage as Graphviz DOT, or as SVG/PNG through `dot` when FILE
/// ends in .svg or .png. forward is the lowered model with the loss; grad
/// adds the backward pass and the update (after autodiff); fused draws the
/// training graph after CSE and DCE with each fused kernel as a cluster
/// (the nodes it computes in one loop). --values runs one training step on
/// the reference interpreter (first batch in file order, initial
/// parameters) and writes each node's value and gradient into its label.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "tools/Driver.h"
#include "tools/Explain.h"
#include "tools/Graphviz.h"

#include <iostream>

namespace nn {

std::string graphDot(const LoadedModel &m, const std::string &stage,
                     bool values) {
  Stage s = stage == "forward" ? Stage::Forward
            : stage == "grad"  ? Stage::Grad
                               : Stage::Opt;
  Graph g = compileTo(m, s);
  FusionLog log;
  std::optional<KernelMap> kernels;
  DotOptions opts;
  opts.sourceText = m.text;
  opts.sourcePath = m.path;
  if (stage == "fused") {
    kernels.emplace(g, log);
    opts.kernels = &*kernels;
  }
  std::vector<Value> vals;
  ValueMap grads;
  if (values) {
    // Gradients come from the training graph (the forward graph has none).
    Graph step = s == Stage::Forward ? compileTo(m, Stage::Opt) : g;
    ValueMap leaves = firstStepLeaves(m, step, -1, nullptr);
    std::vector<Value> stepVals = Interpreter(step).run(leaves);
    for (NodeId id = 0; id < step.size(); ++id)
      if (step[id].name.rfind("d.", 0) == 0 && !stepVals[id].data.empty())
        grads[step[id].name.substr(2)] = stepVals[id];
    if (s == Stage::Forward) {
      ValueMap fwdLeaves;
      for (NodeId id = 0; id < g.size(); ++id)
        if (hasTrait(g[id].op, kLeaf) && g[id].op != OpKind::Const)
          fwdLeaves[g[id].name] = leaves.at(g[id].name);
      vals = Interpreter(g).run(fwdLeaves);
    } else {
      vals = stepVals;
    }
    opts.values = &vals;
    opts.gradients = &grads;
  }
  return graphToDot(g, opts);
}

namespace {

int runGraph(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  std::string stage = args.get("stage").value_or("fused");
  if (stage != "forward" && stage != "grad" && stage != "fused") {
    std::string near = closestMatch(stage, {"forward", "grad", "fused"});
    throw UserError("nnc: error: unknown stage '" + stage +
                    "' for nnc graph" +
                    (near.empty() ? "" : "; did you mean '" + near + "'?") +
                    " (stages: forward, grad, fused)");
  }
  auto out = args.get("output");
  if (out)
    checkOutputPaths({{"the model", m.path}},
                     {{"--output", *out, "the graph"}});
  std::string dot = graphDot(m, stage, args.has("values"));
  if (!out) {
    std::cout << dot;
    return 0;
  }
  std::string format = "dot";
  if (size_t dotPos = out->rfind('.'); dotPos != std::string::npos)
    format = out->substr(dotPos + 1);
  std::string bytes;
  if (format == "dot" || format == "gv")
    bytes = dot;
  else if (format == "svg" || format == "png")
    bytes = runDot(dot, format);
  else
    throw UserError("nnc: error: cannot tell the format of '" + *out +
                    "': name it .dot, .gv, .svg or .png");
  writeFileAtomic(*out, bytes);
  return 0;
}

} // namespace

const Command &graphCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"stage", "STAGE",
         "forward, grad (after autodiff) or fused (kernels as clusters; the "
         "default)"},
        {"output", "FILE",
         "write here: .dot/.gv (DOT text), .svg or .png (through Graphviz's "
         "dot); default: DOT on stdout",
         'o'},
        {"values", "",
         "run one training step on the interpreter and show each node's value "
         "and gradient"}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"graph",
                   "the graph of a stage as a picture (Graphviz DOT, SVG, "
                   "PNG)",
                   flags, runGraph};
  }();
  return c;
}

} // namespace nn
