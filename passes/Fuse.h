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
    std::string fusion; ///< "conv", "dense", "dense-grad", ...
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

/// One fusion: its `--fuse` name and its pass. The fusion table
/// (fusionTable(), in Fuse.cpp) lists them in the order the passes run; the
/// pipeline, `--fuse`, `--print-after`, the kernel map and the help texts
/// all read it, so a new fusion is its pass file plus one row.
struct FusionInfo {
  const char *name; ///< the `--fuse` name: "dense-grad"
  Graph (*pass)(const Graph &g, FusionLog &log);
  /// Its name in `--print-after`: "fuse-" + name.
  std::string passName() const { return std::string("fuse-") + name; }
};

/// Every fusion, in the order the passes run: conv, dense-grad, dense,
/// softmax-xent, sigmoid-bce, sgd, elementwise.
const std::vector<FusionInfo> &fusionTable();

/// The fusion names, in table order.
const std::vector<std::string> &fusionNames();

/// "dense-grad, dense, ...": the fusion names for help texts.
std::string fusionNameList();

/// Throws the UserError of an unknown `--fuse` name (with a near-miss
/// suggestion and the valid choices) unless `name` is a fusion.
void checkFusionName(const std::string &name);

/// The set named by a --fuse= value: "all", "none", or a comma-separated
/// list of fusion names. Throws UserError naming an unknown fusion (with a
/// near-miss suggestion).
std::set<std::string> parseFusionList(const std::string &spec);

/// Folds activation gradients into the convolution gradients
/// (conv2d_grad_input, conv2d_grad_weight, channel_sum {act}), then
/// conv2d + activation -> conv2d {act}.
Graph fuseConv(const Graph &g, FusionLog &log);
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

/// Runs the enabled fusions (names from fusionNames()) in table order, then
/// DCE.
Graph fuse(const Graph &g, const std::set<std::string> &enabled,
           FusionLog &log);

} // namespace nn
