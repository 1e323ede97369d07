//===- ReportCommand.cpp - nnc report -------------------------------------===//
///
/// \file
/// `nnc report model.nn -o report.html [--metrics FILE.csv] [--bench
/// FILE.json]`: the flags and the output file; the page is made by
/// tools/teach (reportHtml).
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
  checkOutputPaths({{"the model", m.path},
                    {"--metrics", args.get("metrics").value_or("")},
                    {"--bench", args.get("bench").value_or("")}},
                   {{"--output", *out, "the report"}});
  std::string page = reportHtml(m, args.get("metrics"), args.get("bench"));
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
        {"metrics", "FILE", "training curves: the CSV of nnc train --metrics"},
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
