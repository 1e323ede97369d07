//===- Fuse.h - The fusion passes ------------------------------*- C++ -*-===//
///
/// \file
/// Passes that replace groups of ops of the training step by the fused ops
/// of Ops.def, run after autodiff, CSE and DCE. Each is a pure function that
/// rewrites fusion roots in place (so node ids stay those of the input graph
/// until the final DCE) and appends to a FusionLog why each candidate was or
/// was not fused.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <set>
#include <string>
#include <vector>

namespace nn {

/// What the fusion passes did and why: one line per candidate.
struct FusionLog {
  struct Entry {
    std::string fusion; ///< "dense", "dense-grad", ...
    bool fused;         ///< false: a candidate left alone, `text` says why
    std::string text;
  };
  std::vector<Entry> entries;

  void add(std::string fusion, bool fused, std::string text) {
    entries.push_back({std::move(fusion), fused, std::move(text)});
  }
  /// The log as `#` comment lines ("# dense: fused ..."), after a header
  /// line; "" when empty.
  std::string str() const;
};

/// The fusion names, in the order the passes run: dense-grad, dense,
/// softmax-xent, sigmoid-bce, sgd, elementwise.
const std::vector<std::string> &fusionNames();

/// The set named by a --fuse= value: "all", "none", or a comma-separated
/// list of fusion names. Throws UserError naming an unknown fusion (with a
/// near-miss suggestion).
std::set<std::string> parseFusionList(const std::string &spec);

/// Folds activation gradients (relu mask, s(1-s), 1-t^2) into the gradient
/// matmuls and the bias column sum, and reads transposed matmul operands in
/// place (fused.dense_grad_*, fused.matmul).
Graph fuseDenseGrad(const Graph &g, FusionLog &log);
/// matmul + bias add + activation -> fused.dense.
Graph fuseDense(const Graph &g, FusionLog &log);
/// The gradient of softmax_cross_entropy -> fused.softmax_xent_grad.
Graph fuseSoftmaxXent(const Graph &g, FusionLog &log);
/// The gradient of bce_logits -> fused.sigmoid_bce_grad.
Graph fuseSigmoidBce(const Graph &g, FusionLog &log);
/// The SGD updates of every parameter -> fused.sgd, fused.sgd_momentum.
Graph fuseSgd(const Graph &g, FusionLog &log);
/// Chains of single-use elementwise ops -> fused.elementwise.
Graph fuseElementwise(const Graph &g, FusionLog &log);

/// Runs the enabled fusions (names from fusionNames()) in order, then DCE.
Graph fuse(const Graph &g, const std::set<std::string> &enabled,
           FusionLog &log);

} // namespace nn
