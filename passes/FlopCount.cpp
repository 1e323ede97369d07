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

  // Fused ops: the FLOPs of the ops they replace, counted on the shapes
  // the fused op sees (the activation and its derivative count 1 each).
  case OpKind::Dense: {
    // [m,k] @ [k,n], + bias, activation.
    double k = static_cast<double>(g[n.inputs[0]].type.dims.back());
    return 2.0 * out * k + out + (n.act == Activation::None ? 0 : out);
  }
  case OpKind::FusedMatMul: {
    const TensorType &a = g[n.inputs[0]].type;
    int64_t k = n.transA ? a.dims[0] : a.dims.back();
    return 2.0 * out * static_cast<double>(k == kBatch ? batch : k);
  }
  case OpKind::DenseGradInput: {
    // The mask (act' and a multiply per element of da), then
    // [m,n] @ [n,k]^T: inner dimension n.
    const TensorType &da = g[n.inputs[0]].type;
    return 2.0 * numel(n.inputs[0]) +
           2.0 * out * static_cast<double>(da.dims.back());
  }
  case OpKind::DenseGradWeight: {
    // The mask, then x^T @ dz: inner dimension m, the rows of x.
    int64_t m = g[n.inputs[0]].type.dims[0];
    return 2.0 * numel(n.inputs[1]) +
           2.0 * out * static_cast<double>(m == kBatch ? batch : m);
  }
  case OpKind::DenseGradBias:
    return 3.0 * numel(n.inputs[0]);
  case OpKind::SoftmaxXentGrad:
    return (kSoftmaxFlops + 2) * out;
  case OpKind::SigmoidBceGrad:
  case OpKind::SgdMomentum:
  case OpKind::Sgd:
    return (n.op == OpKind::SigmoidBceGrad ? 3 : 2) * out;
  case OpKind::Elementwise: {
    double steps = 0;
    for (const ExprStep &s : n.body)
      steps += s.op == OpKind::Const ? 0 : 1;
    return steps * out;
  }
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
