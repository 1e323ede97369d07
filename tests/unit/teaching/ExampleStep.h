//===- ExampleStep.h - One step of an example model, for tests -*- C++ -*-===//
///
/// \file
/// The fused step graph of a model in examples/ and the leaves of its first
/// batch (the first rows of its CSV data, in file order) from its initial
/// parameters: what `nnc explain --scalar` writes out. Shared by the
/// scalar-view tests.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Frontend.h"
#include "passes/Pipeline.h"
#include "runtime/Dataset.h"
#include "runtime/Interpreter.h"
#include "runtime/ParamInit.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace nn::test {

struct Example {
  Graph fused;
  ValueMap leaves;
};

/// examples/`name`, parsed (a failure fails the test that asked).
inline Model parseExample(const std::string &name) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + name;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  DiagEngine diags;
  diags.addSource(path, ss.str());
  std::optional<Model> m = parseModel(path, ss.str(), diags);
  EXPECT_TRUE(m) << diags.str();
  return m ? std::move(*m) : Model{};
}

/// The fused step graph of examples/`name` and the leaves of its first
/// batch (the first `rows` rows of examples/data/`csv`, label column
/// `label`) from its initial parameters.
inline Example loadExample(const std::string &name, const std::string &csv,
                           const std::string &label, int64_t rows) {
  Model m = parseExample(name);
  DiagEngine diags;
  Example ex;
  ex.fused = runPipeline(m.graph, m.recipe, Stage::Fused, {}, diags);
  Dataset d =
      loadCsv(std::string(NNC_SOURCE_DIR) + "/examples/data/" + csv, label);
  std::vector<int64_t> first;
  for (int64_t i = 0; i < rows; ++i)
    first.push_back(i);
  Dataset b = selectRows(d, first);
  for (const auto &[n, t] : initState(ex.fused, m.recipe.seed))
    ex.leaves[n] = toValue(t);
  for (const auto &[n, t] : bindBatch(ex.fused, b.x, b.y))
    ex.leaves[n] = toValue(t);
  return ex;
}

/// A model given as text, with its CSV data written next to it in a temp
/// folder, loaded like loadExample (the first `rows` rows).
inline Example loadText(const std::string &name, const std::string &model,
                        const std::string &csv, const std::string &label,
                        int64_t rows) {
  std::string dir = ::testing::TempDir();
  std::string csvPath = dir + "/" + name + ".csv";
  std::ofstream(csvPath) << csv;
  std::string path = dir + "/" + name + ".nn";
  DiagEngine diags;
  diags.addSource(path, model);
  std::optional<Model> m = parseModel(path, model, diags);
  EXPECT_TRUE(m) << diags.str();
  Example ex;
  ex.fused = runPipeline(m->graph, m->recipe, Stage::Fused, {}, diags);
  Dataset d = loadCsv(csvPath, label);
  std::vector<int64_t> first;
  for (int64_t i = 0; i < rows; ++i)
    first.push_back(i);
  Dataset b = selectRows(d, first);
  for (const auto &[n, t] : initState(ex.fused, m->recipe.seed))
    ex.leaves[n] = toValue(t);
  for (const auto &[n, t] : bindBatch(ex.fused, b.x, b.y))
    ex.leaves[n] = toValue(t);
  return ex;
}

} // namespace nn::test
