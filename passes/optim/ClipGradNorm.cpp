//===- ClipGradNorm.cpp - torch.nn.utils.clip_grad_norm_ ------------------===//
///
/// \file
/// Algorithm: with max_norm = spec.clipGradNorm > 0, before the optimizer
/// sees them, every parameter's gradient g is scaled by one scalar:
///   total = sqrt(sum over the parameters of sum(g * g))
///   coef  = max_norm / (total + 1e-6)
///   s     = step(1 - coef)          (1 when coef < 1, else 0)
///   g'    = g * (coef * s + (1 - s)) = g * min(coef, 1)
/// exactly as PyTorch's clip_grad_norm_ (which multiplies by the clamped
/// coefficient always). The gradients already hold l2's term (added to the
/// loss); an optimizer's own weight decay comes after, as in PyTorch.
///
//===----------------------------------------------------------------------===//

#include "passes/optim/Optimizer.h"

namespace nn {

void addClipGradNorm(OptimizerContext &c) {
  if (c.spec.clipGradNorm <= 0 || c.params.empty())
    return;
  Builder &b = c.b;
  NodeId sumSq = -1; // the scalars are located at the last parameter
  for (auto [p, grad] : c.params) {
    b.loc = c.g[p].loc;
    NodeId sq = b.op(OpKind::Sum, {b.binary(OpKind::Mul, grad, grad)}, "", -1);
    sumSq = sumSq < 0 ? sq : b.binary(OpKind::Add, sumSq, sq);
  }
  NodeId total = b.unary(OpKind::Sqrt, sumSq, "grad_norm");
  NodeId coef =
      b.binary(OpKind::Div, b.constant(c.spec.clipGradNorm, "clip.max_norm"),
               b.binary(OpKind::Add, total, b.constant(1e-6)), "clip.coef");
  NodeId one = b.constant(1.0);
  NodeId s = b.unary(OpKind::Step, b.binary(OpKind::Sub, one, coef));
  NodeId scale = b.binary(OpKind::Add, b.binary(OpKind::Mul, coef, s),
                          b.binary(OpKind::Sub, one, s), "clip.scale");
  for (auto &[p, grad] : c.params) {
    b.loc = c.g[p].loc;
    grad = b.binary(OpKind::Mul, grad, scale, "clipped." + c.g[p].name);
  }
}

} // namespace nn
