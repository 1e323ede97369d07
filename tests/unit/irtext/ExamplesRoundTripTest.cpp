//===- ExamplesRoundTripTest.cpp - The examples' graphs survive the text ---===//
///
/// \file
/// Every examples/*.nn, lowered by the frontend and taken through each stage
/// of the pipeline, prints, parses and prints back identically.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace nn;

TEST(ExamplesRoundTrip, EveryStage) {
  int checked = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(NNC_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".nn")
      continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    DiagEngine diags;
    std::optional<Model> m =
        parseModel(entry.path().string(), text.str(), diags);
    ASSERT_TRUE(m) << diags.str();
    for (Stage s : {Stage::Forward, Stage::Grad, Stage::Opt}) {
      Graph g = runPipeline(m->graph, m->recipe, s, {}, diags);
      std::string printed = printGraph(g);
      Graph back = parseGraph("rt.nnir", printed, diags);
      EXPECT_EQ(printGraph(back), printed) << entry.path();
      ++checked;
    }
  }
  EXPECT_GE(checked, 9);
}
