//===- FaultTestUtil.h - Models, data and files for fault tests -*- C++ -*-===//
///
/// \file
/// A model compiled from .nn text to its training step and eval graphs, a
/// scratch directory removed afterwards, and byte-level file helpers.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Frontend.h"
#include "ir/Diagnostics.h"
#include "passes/Pipeline.h"
#include "runtime/Dataset.h"
#include "runtime/ParamInit.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace nn::test {

struct Compiled {
  Graph step, eval;
  Recipe recipe;
};

/// Parses `text` and runs the pipeline; `tweak` may change the recipe first
/// (the optimizer is part of the step graph).
template <typename F> Compiled compileModel(const std::string &text, F tweak) {
  DiagEngine diags;
  diags.addSource("m.nn", text);
  std::optional<Model> m = parseModel("m.nn", text, diags);
  if (!m)
    throw std::runtime_error(diags.str());
  tweak(m->recipe);
  Compiled c;
  c.recipe = m->recipe;
  c.step = runPipeline(m->graph, c.recipe, Stage::Opt, {}, diags);
  c.eval = runPipeline(m->graph, c.recipe, Stage::Forward, {}, diags);
  return c;
}

/// The lecture's xor network, its four samples, and the network compiled
/// with `batch` and `epochs` (seed 7, SGD lr 0.5, momentum 0.9).
inline const char *kXor = R"(model xor
input x : f32[2]
label y : binary
hidden = dense(x, 4, tanh)
out    = dense(hidden, 1)
loss bce(sigmoid(out), y)
)";

inline Dataset xorData() {
  Dataset d;
  d.x = Tensor({4, 2});
  d.x.data = {0, 0, 0, 1, 1, 0, 1, 1};
  d.y = Tensor({4});
  d.y.data = {0, 1, 1, 0};
  d.source = "xor";
  return d;
}

inline Compiled xorModel(int64_t batch, int64_t epochs) {
  return compileModel(kXor, [&](Recipe &r) {
    r.batch = batch;
    r.epochs = epochs;
    r.seed = 7;
    r.optimizer.lr = 0.5;
    r.optimizer.momentum = 0.9;
  });
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// A fresh directory, removed with everything in it at the end.
class ScratchDir {
public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "nnc-rel-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  ~ScratchDir() { std::filesystem::remove_all(dir); }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  /// Names of the files in the directory whose name contains `part`.
  std::vector<std::string> filesWith(const std::string &part) const {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(dir))
      if (e.path().filename().string().find(part) != std::string::npos)
        out.push_back(e.path().filename().string());
    return out;
  }

  std::string dir;
};

/// Bit-for-bit equality of two sets of tensors.
inline ::testing::AssertionResult sameBits(const TensorMap &a,
                                           const TensorMap &b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "different tensor counts";
  for (const auto &[name, t] : a) {
    auto it = b.find(name);
    if (it == b.end())
      return ::testing::AssertionFailure() << "no '" << name << "'";
    if (it->second.shape != t.shape ||
        std::memcmp(it->second.data.data(), t.data.data(),
                    t.data.size() * sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "'" << name << "' differs";
  }
  return ::testing::AssertionSuccess();
}

} // namespace nn::test
