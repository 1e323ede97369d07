//===- SummaryCommand.cpp - nnc summary -----------------------------------===//
///
/// \file
/// `nnc summary model.nn`: the flags; the table is made by tools/teach
/// (summaryText).
///
//===----------------------------------------------------------------------===//

#include "tools/Driver.h"
#include "tools/teach/Explain.h"

#include <iostream>

namespace nn {

namespace {

int runSummary(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  std::cout << summaryText(m);
  return 0;
}

} // namespace

const Command &summaryCommand() {
  static const Command c{"summary",
                         "layers, shapes, parameters and FLOPs per sample",
                         {{"l2", "X", "L2 penalty (changes the step cost)"},
                          {"momentum", "X", "SGD momentum"}},
                         runSummary};
  return c;
}

} // namespace nn
