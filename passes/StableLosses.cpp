//===- StableLosses.cpp - Losses on probabilities to logits ---------------===//
///
/// \file
/// Algorithm: for each bce whose predictions are a sigmoid, and each
/// cross_entropy whose predictions are a softmax, make the loss read the
/// sigmoid's or softmax's input and become bce_logits or
/// softmax_cross_entropy (log(sigmoid(z)) and log(softmax(z)) lose all
/// precision once the probability rounds to 0 or 1). Then drop each
/// sigmoid/softmax that nothing uses any more; one that an output such as
/// "pred" still uses stays. Operands come before the loss, so the order
/// stays topological.
///
//===----------------------------------------------------------------------===//

#include "passes/StableLosses.h"
#include "passes/GraphUtil.h"

#include "ir/Support.h"

#include <optional>

namespace nn {

namespace {

/// The loss on logits that loss `op` becomes when its predictions are made
/// by `pred`: bce(sigmoid(z)) -> bce_logits(z), cross_entropy(softmax(z))
/// -> softmax_cross_entropy(z); nullopt when it stays.
std::optional<OpKind> stableForm(LossOp op, OpKind pred) {
  switch (op) {
  case LossOp::Bce:
    if (pred == OpKind::Sigmoid)
      return opOf(LossOp::BceLogits);
    return std::nullopt;
  case LossOp::CrossEntropy:
    if (pred == OpKind::Softmax)
      return opOf(LossOp::SoftmaxCrossEntropy);
    return std::nullopt;
  case LossOp::BceLogits:
  case LossOp::SoftmaxCrossEntropy:
  case LossOp::Mse:
    return std::nullopt;
  }
  NN_UNREACHABLE("bad LossOp");
}

} // namespace

Graph stableLosses(const Graph &g) {
  Graph out = g;
  std::vector<NodeId> rewired;
  for (Node &n : out.nodes) {
    if (family(n.op) != OpFamily::Loss || n.inputs.empty())
      continue;
    NodeId p = n.inputs[0];
    std::optional<OpKind> stable = stableForm(member<LossOp>(n.op), out[p].op);
    if (!stable)
      continue;
    n.op = *stable;
    n.inputs[0] = out[p].inputs[0];
    rewired.push_back(p);
  }
  if (rewired.empty())
    return out;
  std::vector<int> uses = out.useCounts();
  std::vector<bool> keep(out.nodes.size(), true);
  for (NodeId p : rewired)
    if (uses[p] == 0)
      keep[p] = false;
  return compactGraph(out, keep, std::vector<NodeId>(out.nodes.size(), -1));
}

} // namespace nn
