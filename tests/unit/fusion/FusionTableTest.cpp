//===- FusionTableTest.cpp - One table lists the fusions ------------------===//
///
/// \file
/// The fusion table (passes/Fuse.h, fusionTable) is the one list of
/// fusions: --fuse names, the pipeline's pass names and order, and the one
/// "unknown fusion" check all come from it.
///
//===----------------------------------------------------------------------===//

#include "../passes/TestGraphs.h"

#include "ir/Support.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

using namespace nn;
using namespace nn::test;

TEST(FusionTable, NamesAndPassesComeFromTheTable) {
  const std::vector<FusionInfo> &table = fusionTable();
  ASSERT_EQ(table.size(), fusionNames().size());
  std::vector<std::string> passes = passNames();
  size_t last = 0;
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(fusionNames()[i], table[i].name);
    EXPECT_NE(table[i].pass, nullptr);
    // Each fusion is a pipeline pass, in table order.
    auto it = std::find(passes.begin(), passes.end(), table[i].passName());
    ASSERT_NE(it, passes.end()) << table[i].passName();
    size_t at = static_cast<size_t>(it - passes.begin());
    EXPECT_GT(at, last);
    last = at;
  }
  EXPECT_EQ(table.front().passName(), "fuse-conv");
  EXPECT_EQ(fusionNameList(), "conv, dense-grad, dense, softmax-xent, "
                              "sigmoid-bce, sgd, elementwise");
}

namespace {

std::string userErrorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

} // namespace

// The pipeline checks its fusion set with the same check and message as
// --fuse (it used to say only "error: unknown fusion 'X'").
TEST(FusionTable, OneUnknownFusionMessage) {
  std::string fromFlag = userErrorOf([] { parseFusionList("dense,dens"); });
  EXPECT_EQ(fromFlag, "nnc: error: unknown fusion 'dens' in --fuse (did you "
                      "mean 'dense'?); fusions: all, none, conv, dense-grad, "
                      "dense, softmax-xent, sigmoid-bce, sgd, elementwise");
  PipelineOptions opts;
  opts.fusions = {"dense", "dens"};
  DiagEngine diags;
  std::string fromPipeline = userErrorOf(
      [&] { runPipeline(mlpGraph(), Recipe{}, Stage::Fused, opts, diags); });
  EXPECT_EQ(fromPipeline, fromFlag);
}
