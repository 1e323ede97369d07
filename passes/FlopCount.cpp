//===- FlopCount.cpp - Floating-point operation counts --------------------===//
///
/// \file
/// Algorithm: a complete switch over the op's family, then over the
/// family's enum, on the node's and operands' types, with the batch
/// dimension set. The counts are conventions for reports, not measurements:
/// a multiply-add is 2 FLOPs, every elementwise op (exp and tanh included)
/// counts 1 per element by one rule, and ops that only move or count data
/// are 0.
///
//===----------------------------------------------------------------------===//

#include "passes/FlopCount.h"
#include "ir/ConvAffine.h"

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

/// The node's context: its graph, the batch, the result's element count.
struct FlopCtx {
  const Graph &g;
  const Node &n;
  int64_t batch;
  double out;

  double numel(NodeId x) const {
    return static_cast<double>(g[x].type.numel(batch));
  }
  double operandNumel(int i) const { return numel(n.inputs[i]); }
  /// A dimension, with the batch dimension set.
  double dim(int64_t d) const {
    return static_cast<double>(d == kBatch ? batch : d);
  }
};

double linalgFlops(const FlopCtx &c) {
  switch (member<LinalgOp>(c.n.op)) {
  case LinalgOp::MatMul:
    // [m,k] @ [k,n]: m*n dot products of length k, 2 FLOPs per term.
    return 2.0 * c.out * c.dim(c.g[c.n.inputs[0]].type.dims.back());
  case LinalgOp::Transpose:
  case LinalgOp::Expand:
  case LinalgOp::Reshape:
    return 0;
  }
  NN_UNREACHABLE("bad LinalgOp");
}

double reduceFlops(const FlopCtx &c) {
  switch (member<ReduceOp>(c.n.op)) {
  case ReduceOp::Sum:
  case ReduceOp::Mean:
    return c.operandNumel(0);
  case ReduceOp::Count:
    return 0;
  }
  NN_UNREACHABLE("bad ReduceOp");
}

double rowsFlops(const FlopCtx &c) {
  switch (member<RowsOp>(c.n.op)) {
  case RowsOp::Softmax:
    return kSoftmaxFlops * c.out;
  case RowsOp::OneHot:
    return 0;
  // Per element, as the kernels compute: sums of x and x * x (3), then
  // (x - mean) * rstd (2).
  case RowsOp::Normalize:
    return 5 * c.out;
  // Sums of x, x * x, dy and dy * x (6), then xh = (x - mean) * rstd and
  // (dy - mean(dy) - xh * mean(dy * xh)) * rstd (6).
  case RowsOp::NormalizeGrad:
    return 12 * c.out;
  }
  NN_UNREACHABLE("bad RowsOp");
}

/// A convolution's multiply-adds: 2 FLOPs for each of the C/groups * kh * kw
/// terms of every output of the forward op (the gradients do as many).
double convTerms(const FlopCtx &c, const TensorType &y, const Node &n,
                 int64_t inChannels) {
  return 2.0 * static_cast<double>(y.numel(c.batch)) *
         static_cast<double>(inChannels / n.win.groups * n.win.kernel[0] *
                             n.win.kernel[1]);
}

/// The activation's derivative (times dy) where one is folded in (operand
/// `actOperand` given): 2 per element of dy, operand `dyOperand`.
double foldedAct(const FlopCtx &c, size_t actOperand, size_t dyOperand) {
  return c.n.inputs.size() > actOperand ? 2 * c.numel(c.n.inputs[dyOperand])
                                        : 0;
}

double spatialFlops(const FlopCtx &c) {
  const Node &n = c.n;
  auto in = [&](size_t i) -> const TensorType & {
    return c.g[n.inputs[i]].type;
  };
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d: // the products, then bias, act, scale and shift
    return convTerms(c, n.type, n, in(0).dims[1]) +
           (convOperands(n).bias >= 0 ? c.out : 0) +
           (n.act != Activation::None ? c.out : 0) +
           (convOperands(n).hasAffine() ? 2 * c.out : 0);
  case SpatialOp::Conv2dGradInput:
    return convTerms(c, in(0), n, n.shape[1]) + foldedAct(c, 2, 0);
  case SpatialOp::Conv2dGradWeight:
    return convTerms(c, in(1), n, in(0).dims[1]) + foldedAct(c, 2, 1);
  case SpatialOp::ChannelSum:
    return c.numel(n.inputs[0]) + foldedAct(c, 1, 0);
  case SpatialOp::ChannelMean:
    return c.numel(n.inputs[0]);
  case SpatialOp::ChannelVar: // sums of x and x * x
    return 3 * c.numel(n.inputs[0]);
  case SpatialOp::ChannelAffine:
    return static_cast<double>(n.inputs.size() - 1) * c.out;
  case SpatialOp::BatchNormalize: // as normalize: sums, then (x-m)*rstd
    return 5 * c.out;
  case SpatialOp::BatchNormalizeGrad:
    return 12 * c.out;
  case SpatialOp::MaxPool2d: // a comparison per window element
  case SpatialOp::AvgPool2d: // an addition per window element
    return c.out * static_cast<double>(n.win.kernel[0] * n.win.kernel[1]);
  case SpatialOp::MaxPool2dGrad: // the comparisons again, to find the max
  case SpatialOp::AvgPool2dGrad:
    return c.numel(n.inputs[0]) *
           static_cast<double>(n.win.kernel[0] * n.win.kernel[1]);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

double lossFlops(const FlopCtx &c) {
  switch (member<LossOp>(c.n.op)) {
  case LossOp::Bce:
    return kBceFlops * c.operandNumel(0);
  case LossOp::BceLogits:
    return kBceLogitsFlops * c.operandNumel(0);
  case LossOp::Mse:
    return kMseFlops * c.operandNumel(0);
  case LossOp::CrossEntropy:
    return kCrossEntropyRowFlops * c.operandNumel(1);
  case LossOp::SoftmaxCrossEntropy:
    return kSoftmaxFlops * c.operandNumel(0) +
           kCrossEntropyRowFlops * c.operandNumel(1);
  }
  NN_UNREACHABLE("bad LossOp");
}

/// Fused dense ops: the FLOPs of the ops they replace, counted on the
/// shapes the fused op sees (the activation and its derivative count 1
/// each).
double denseFlops(const FlopCtx &c) {
  const Node &n = c.n;
  switch (member<DenseOp>(n.op)) {
  case DenseOp::Dense: {
    // [m,k] @ [k,n], + bias, activation.
    double k = static_cast<double>(c.g[n.inputs[0]].type.dims.back());
    return 2.0 * c.out * k + c.out + (n.act == Activation::None ? 0 : c.out);
  }
  case DenseOp::FusedMatMul: {
    const TensorType &a = c.g[n.inputs[0]].type;
    return 2.0 * c.out * c.dim(n.transA ? a.dims[0] : a.dims.back());
  }
  case DenseOp::DenseGradInput:
    // The mask (act' and a multiply per element of da), then
    // [m,n] @ [n,k]^T: inner dimension n.
    return 2.0 * c.operandNumel(0) +
           2.0 * c.out * static_cast<double>(c.g[n.inputs[0]].type.dims.back());
  case DenseOp::DenseGradWeight:
    // The mask, then x^T @ dz: inner dimension m, the rows of x.
    return 2.0 * c.operandNumel(1) +
           2.0 * c.out * c.dim(c.g[n.inputs[0]].type.dims[0]);
  case DenseOp::DenseGradBias:
    return 3.0 * c.operandNumel(0);
  }
  NN_UNREACHABLE("bad DenseOp");
}

double lossGradFlops(const FlopCtx &c) {
  switch (member<LossGradOp>(c.n.op)) {
  case LossGradOp::SoftmaxXentGrad:
    return (kSoftmaxFlops + 2) * c.out;
  case LossGradOp::SigmoidBceGrad:
    return 3 * c.out;
  }
  NN_UNREACHABLE("bad LossGradOp");
}

/// fused.elementwise: one FLOP per element for each op of its body.
double fusedElementwiseFlops(const FlopCtx &c) {
  double steps = 0;
  for (const ExprStep &s : c.n.body)
    steps += hasTrait(s.op, kElementwise) ? 1 : 0;
  return steps * c.out;
}

/// The arithmetic of one element of update op `op` (ir/FusedMath.h).
double updateFlops(UpdateOp op) {
  switch (op) {
  case UpdateOp::SgdMomentum: // mu * v + g
  case UpdateOp::Sgd:         // w - lr * s
    return 2;
  case UpdateOp::AdamMoment: // b * m + (1 - b) * g
    return 4;
  case UpdateOp::AdamVariance: // b * v + (1 - b) * g * g
    return 5;
  case UpdateOp::Adam: // w * d - s * (m / (sqrt(v) / c + e))
    return 7;
  }
  NN_UNREACHABLE("bad UpdateOp");
}

} // namespace

double nodeFlops(const Graph &g, NodeId id, int64_t batch) {
  const Node &n = g[id];
  NN_ASSERT(n.type.known, "nodeFlops needs known types");
  FlopCtx c{g, n, batch, static_cast<double>(n.type.numel(batch))};
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return 0;
  case OpFamily::Elementwise:
    return c.out; // 1 FLOP per element, exp and tanh included
  case OpFamily::Linalg:
    return linalgFlops(c);
  case OpFamily::Reduce:
    return reduceFlops(c);
  case OpFamily::Rows:
    return rowsFlops(c);
  case OpFamily::Spatial:
    return spatialFlops(c);
  case OpFamily::Random: // Philox: ~10 rounds of 2 multiplies, per 4 values
    return 6 * c.out;
  case OpFamily::Loss:
    return lossFlops(c);
  case OpFamily::Dense:
    return denseFlops(c);
  case OpFamily::LossGrad:
    return lossGradFlops(c);
  case OpFamily::Update:
    return updateFlops(member<UpdateOp>(n.op)) * c.out;
  case OpFamily::FusedElementwise:
    return fusedElementwiseFlops(c);
  }
  NN_UNREACHABLE("bad OpFamily");
}

double graphFlops(const Graph &g, int64_t batch) {
  double total = 0;
  for (NodeId i = 0; i < g.size(); ++i)
    total += nodeFlops(g, i, batch);
  return total;
}

} // namespace nn
