//===- CudaTestUtil.h - Graphs for the CUDA backend tests ------*- C++ -*-===//
///
/// \file
/// Helpers shared by the CUDA backend tests: an example through the
/// pipeline (unfused, fused, or with one fusion alone), every variant of
/// every example, random leaves, and NEED_NVRTC() (skips a test in a build
/// without NVRTC).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/Nvrtc.h"
#include "frontend/Frontend.h"
#include "passes/Fuse.h"
#include "passes/Pipeline.h"
#include "runtime/Interpreter.h"
#include "runtime/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#define NEED_NVRTC()                                                           \
  if (!nvrtcAvailable())                                                       \
  GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "        \
                  "configure time)"

namespace nn::cudatest {

inline const std::vector<std::string> &exampleFiles() {
  static const std::vector<std::string> f = {"churn.nn", "xor.nn",
                                             "xor_neuron.nn", "mnist_mlp.nn"};
  return f;
}

inline std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Model `text` (named `path` in messages) through the pipeline to `stage` (with `fusions` at
/// Stage::Fused); an empty graph (and a test failure) on errors.
inline Model loadModelText(const std::string &path, const std::string &text,
                           Stage stage,
                           std::optional<std::set<std::string>> fusions = {}) {
  DiagEngine diags;
  diags.addSource(path, text);
  std::optional<Model> m = parseModel(path, text, diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  PipelineOptions opts;
  if (fusions)
    opts.fusions = *fusions;
  m->graph = runPipeline(m->graph, m->recipe, stage, opts, diags);
  return *m;
}

/// examples/<file> through the pipeline to `stage`, as loadModelText.
inline Model loadExample(const std::string &file, Stage stage,
                         std::optional<std::set<std::string>> fusions = {}) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + file;
  return loadModelText(path, readText(path), stage, std::move(fusions));
}

/// One graph to test: an example at some stage, with a readable name.
struct Variant {
  std::string what;
  Model model;
};

/// Every example's unfused training step and its step with all fusions;
/// with `forward`, its forward graph too; with `alone`, mnist_mlp's step
/// with each fusion alone (fused ops next to the unfused ops they replace
/// elsewhere).
inline std::vector<Variant> allVariants(bool forward = true,
                                        bool alone = true) {
  std::vector<Variant> v;
  for (const std::string &f : exampleFiles()) {
    if (forward)
      v.push_back({f + " forward", loadExample(f, Stage::Forward)});
    v.push_back({f + " unfused", loadExample(f, Stage::Opt)});
    v.push_back({f + " fused", loadExample(f, Stage::Fused)});
  }
  if (alone)
    for (const std::string &one : fusionNames())
      v.push_back({"mnist_mlp.nn fused " + one,
                   loadExample("mnist_mlp.nn", Stage::Fused,
                               std::set<std::string>{one})});
  return v;
}

/// Random values for every Input, Label, Param and State leaf; `batch` rows.
/// Class labels are valid ids, binary labels 0/1.
inline ValueMap randomLeaves(const Graph &g, int64_t batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  ValueMap l;
  for (const Node &n : g.nodes) {
    if (!hasTrait(n.op, kLeaf) || n.op == OpKind::Const)
      continue;
    Value v;
    v.shape = n.type.dims;
    for (int64_t &d : v.shape)
      d = d == kBatch ? batch : d;
    int64_t k = 1;
    for (int64_t d : v.shape)
      k *= d;
    for (int64_t i = 0; i < k; ++i) {
      double x = u(rng);
      if (n.op == OpKind::Param)
        x = (x - 0.5) * 0.6;
      else if (n.op == OpKind::State)
        x = (x - 0.5) * 0.02;
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
        x = std::floor(x * static_cast<double>(n.classes));
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
        x = x < 0.5 ? 0 : 1;
      v.data.push_back(static_cast<double>(static_cast<float>(x)));
    }
    l[n.name] = v;
  }
  return l;
}

/// The Param and State leaves of `v` (state) or its Input and Label leaves
/// (!state), as tensors.
inline TensorMap toTensors(const ValueMap &v, const Graph &g, bool state) {
  TensorMap t;
  for (const Node &n : g.nodes) {
    bool isState = n.op == OpKind::Param || n.op == OpKind::State;
    bool isBatch = n.op == OpKind::Input || n.op == OpKind::Label;
    if ((state && isState) || (!state && isBatch))
      t[n.name] = toTensor(v.at(n.name));
  }
  return t;
}

/// Every element of `got` within rtol of `want` (relative to the element,
/// plus 1e-2 of the tensor's largest magnitude); NaN where `want` is NaN.
inline void expectClose(const Tensor &got, const Value &want, double rtol,
                 const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  double scale = 0;
  for (double w : want.data)
    scale = std::max(scale, std::fabs(w));
  int bad = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double w = want.data[i], g = got.data[i];
    double tol = rtol * (std::fabs(w) + 1e-2 * scale) + 1e-30;
    bool same = std::isnan(w) ? std::isnan(g) : std::fabs(g - w) <= tol;
    if (!same && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: cuda " << g << ", interpreter "
                    << w;
  }
}

} // namespace nn::cudatest
