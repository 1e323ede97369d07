//===- ReportCommand.cpp - nnc report -------------------------------------===//
///
/// \file
/// `nnc report model.nn -o report.html [--metrics FILE.csv]... [--bench
/// FILE.json]`: the flags and the output file; the page is made by
/// tools/teach (reportHtml). Several --metrics files draw their runs side
/// by side (a plain deep network against its residual twin).
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "tools/Driver.h"
#include "tools/teach/Report.h"

#include <iostream>

namespace nn {

namespace {

int runReport(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  auto out = args.get("output");
  if (!out)
    throw UserError("nnc: error: nnc report needs -o FILE.html");
  std::vector<std::string> metrics = args.getAll("metrics");
  std::vector<PathArg> inputs = {{"the model", m.path},
                                 {"--bench", args.get("bench").value_or("")}};
  for (const std::string &f : metrics)
    inputs.push_back({"--metrics", f});
  checkOutputPaths(inputs, {{"--output", *out, "the report"}});
  std::string page = reportHtml(m, metrics, args.get("bench"));
  writeFileAtomic(*out, page);
  std::cerr << "wrote " << *out << " (" << withCommas(page.size())
            << " bytes)\n";
  return 0;
}

} // namespace

const Command &reportCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"output", "FILE", "the HTML page to write", 'o'},
        {"metrics", "FILE",
         "training curves: the CSV of nnc train --metrics (give it again "
         "to draw several runs side by side)"},
        {"bench", "FILE", "fused vs unfused timings: nnc bench --json"}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"report",
                   "one self-contained HTML page: summary, graphs, explain, "
                   "generated code, training curves, benchmark",
                   flags, runReport};
  }();
  return c;
}

} // namespace nn
