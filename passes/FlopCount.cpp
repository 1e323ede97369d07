//===- FlopCount.cpp - Floating-point operation counts --------------------===//
///
/// \file
/// Algorithm: one complete switch over OpKind on the node's and operands'
/// types, with the batch dimension set. The counts are conventions for
/// reports, not measurements: a multiply-add is 2 FLOPs, exp/log/tanh count
/// 1 like any elementwise op, and ops that only move or count data are 0.
///
//===----------------------------------------------------------------------===//

#include "passes/FlopCount.h"

#include "ir/Support.h"

namespace nn {

namespace {

/// softmax: max, subtract, exp, sum, divide per element.
constexpr double kSoftmaxFlops = 5;
/// bce on probabilities: log p, log(1-p), 1-p, 1-y, two multiplies, add.
constexpr double kBceFlops = 7;
/// bce on logits, max(z,0) - z*y + log(1 + exp(-|z|)): abs, neg, exp, add,
/// log, max, multiply, subtract, add.
constexpr double kBceLogitsFlops = 9;
/// mse: subtract, square, accumulate.
constexpr double kMseFlops = 3;
/// cross_entropy per sample: pick p[y], log, accumulate.
constexpr double kCrossEntropyRowFlops = 2;

} // namespace

double nodeFlops(const Graph &g, NodeId id, int64_t batch) {
  const Node &n = g[id];
  NN_ASSERT(n.type.known, "nodeFlops needs known types");
  auto numel = [&](NodeId x) {
    return static_cast<double>(g[x].type.numel(batch));
  };
  double out = static_cast<double>(n.type.numel(batch));
  switch (n.op) {
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
  case OpKind::Transpose:
  case OpKind::Expand:
  case OpKind::Count:
  case OpKind::OneHot:
    return 0;
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Tanh:
  case OpKind::Step:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
    return out;
  case OpKind::MatMul: {
    // [m,k] @ [k,n]: m*n dot products of length k, 2 FLOPs per term.
    const TensorType &a = g[n.inputs[0]].type;
    int64_t k = a.dims.back() == kBatch ? batch : a.dims.back();
    return 2.0 * out * static_cast<double>(k);
  }
  case OpKind::Sum:
  case OpKind::Mean:
    return numel(n.inputs[0]);
  case OpKind::Softmax:
    return kSoftmaxFlops * out;
  case OpKind::Bce:
    return kBceFlops * numel(n.inputs[0]);
  case OpKind::BceLogits:
    return kBceLogitsFlops * numel(n.inputs[0]);
  case OpKind::Mse:
    return kMseFlops * numel(n.inputs[0]);
  case OpKind::CrossEntropy:
    return kCrossEntropyRowFlops * numel(n.inputs[1]);
  case OpKind::SoftmaxCrossEntropy:
    return kSoftmaxFlops * numel(n.inputs[0]) +
           kCrossEntropyRowFlops * numel(n.inputs[1]);
  }
  NN_UNREACHABLE("bad OpKind");
}

double graphFlops(const Graph &g, int64_t batch) {
  double total = 0;
  for (NodeId i = 0; i < g.size(); ++i)
    total += nodeFlops(g, i, batch);
  return total;
}

} // namespace nn
