//===- GraphCommand.cpp - nnc graph ---------------------------------------===//
///
/// \file
/// `nnc graph model.nn --stage=forward|grad|fused|eval [-o FILE] [--values]`:
/// the flags and the output file. The graph of a stage comes from tools/teach
/// (graphDot) as Graphviz DOT, written as it is or turned into SVG/PNG by
/// `dot` when FILE ends in .svg or .png.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "tools/Driver.h"
#include "tools/teach/Graphviz.h"

#include <iostream>

namespace nn {

namespace {

int runGraph(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  std::string stage = args.get("stage").value_or("fused");
  if (stage != "forward" && stage != "grad" && stage != "fused" &&
      stage != "eval") {
    std::string near =
        closestMatch(stage, {"forward", "grad", "fused", "eval"});
    throw UserError("nnc: error: unknown stage '" + stage + "' for nnc graph" +
                    (near.empty() ? "" : "; did you mean '" + near + "'?") +
                    " (stages: forward, grad, fused, eval)");
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
         "forward, grad (after autodiff), fused (kernels as clusters; the "
         "default) or eval (the evaluation graph's kernels: batch norm on "
         "its running statistics, folded into the convolution)"},
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
