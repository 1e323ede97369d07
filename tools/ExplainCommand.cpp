//===- ExplainCommand.cpp - nnc explain -----------------------------------===//
///
/// \file
/// `nnc explain model.nn [--scalar] [--samples N]`: the flags; the views
/// are in tools/teach (explainModel, explainScalar).
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "tools/Driver.h"
#include "tools/teach/Explain.h"

#include <iostream>

namespace nn {

namespace {

int runExplain(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  if (args.has("scalar")) {
    std::cout << explainScalar(m);
    return 0;
  }
  int64_t samples = -1;
  if (auto s = args.getInt("samples")) {
    if (*s < 0)
      throw UserError("nnc: error: --samples must be 0 or more");
    samples = *s;
  }
  std::cout << explainModel(m, samples);
  return 0;
}

} // namespace

const Command &explainCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"scalar", "",
         "one training step of a small model as scalar multiply-adds with "
         "the actual numbers"},
        {"samples", "N",
         "training samples per epoch for the totals (default: read the "
         "recipe's data, after the validation split)"}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"explain",
                   "forward and backward equations per layer, with shapes, "
                   "IR nodes, kernels and FLOPs",
                   flags, runExplain};
  }();
  return c;
}

} // namespace nn
