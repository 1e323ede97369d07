//===- LossGrad.cpp - Gradient rules of the losses ------------------------===//
///
/// \file
/// Every loss is a mean, so each rule scales its per-element gradient by
/// dL / count (GradContext::scaleByLoss). A label operand of another shape
/// than the prediction (y [n] for p [n,1]) gets its gradient reshaped back.
///
//===----------------------------------------------------------------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

namespace {

// L = -mean(y log p + (1-y) log(1-p)):
//   dL/dp = (p - y) / (p (1 - p)) / count(p)
//   dL/dy = (log(1-p) - log(p)) / count(p)
void bceGrad(GradContext &c, NodeId a, NodeId y, NodeId dy) {
  NodeId count = c.b.op(OpKind::Count, {a}, "", -1);
  if (c.wants(a)) {
    NodeId diff = c.binary(OpKind::Sub, a, c.reshapeLike(y, a));
    NodeId oneMinus = c.binary(OpKind::Sub, c.b.constant(1.0), a);
    NodeId q = c.binary(OpKind::Div, diff, c.binary(OpKind::Mul, a, oneMinus));
    c.contribute(a, c.scaleByLoss(q, dy, count));
  }
  if (c.wants(y)) {
    NodeId oneMinus = c.binary(OpKind::Sub, c.b.constant(1.0), a);
    NodeId d = c.binary(OpKind::Sub, c.log(oneMinus), c.log(a));
    c.contribute(y, c.reshapeLike(c.scaleByLoss(d, dy, count), y));
  }
}

// L = mean(softplus(z) - y z): dL/dz = (sigmoid(z) - y) / count(z),
//   dL/dy = -z / count(z)
void bceLogitsGrad(GradContext &c, NodeId a, NodeId y, NodeId dy) {
  NodeId count = c.b.op(OpKind::Count, {a}, "", -1);
  if (c.wants(a)) {
    NodeId diff = c.binary(OpKind::Sub, c.sigmoid(a), c.reshapeLike(y, a));
    c.contribute(a, c.scaleByLoss(diff, dy, count));
  }
  if (c.wants(y))
    c.contribute(y, c.reshapeLike(c.scaleByLoss(c.neg(a), dy, count), y));
}

// L = mean((p - y)^2): dL/dp = 2 (p - y) / count(p), dL/dy = -dL/dp
void mseGrad(GradContext &c, NodeId a, NodeId y, NodeId dy) {
  NodeId count = c.b.op(OpKind::Count, {a}, "", -1);
  NodeId diff = c.binary(OpKind::Sub, a, c.reshapeLike(y, a));
  NodeId two = c.binary(OpKind::Mul, c.b.constant(2.0), diff);
  NodeId dp = c.scaleByLoss(two, dy, count);
  if (c.wants(a))
    c.contribute(a, dp);
  if (c.wants(y))
    c.contribute(y, c.reshapeLike(c.neg(dp), y));
}

} // namespace

void lossGrad(GradContext &c, NodeId id, NodeId dy) {
  const NodeId a = c.g[id].inputs[0], y = c.g[id].inputs[1];
  switch (member<LossOp>(c.g[id].op)) {
  case LossOp::Bce:
    bceGrad(c, a, y, dy);
    return;
  case LossOp::BceLogits:
    bceLogitsGrad(c, a, y, dy);
    return;
  // L = -mean over the batch of log p[i, y_i]:
  //   dL/dp = -onehot(y) / p / count over the batch
  case LossOp::CrossEntropy: {
    NodeId count = c.b.op(OpKind::Count, {a}, "", 0);
    NodeId hot = c.b.oneHot(y, c.type(a).dims[1]);
    NodeId q = c.neg(c.binary(OpKind::Div, hot, a));
    c.contribute(a, c.scaleByLoss(q, dy, count));
    return;
  }
  // L = mean over the batch of logsumexp(z) - z[i, y_i]:
  //   dL/dz = (softmax(z) - onehot(y)) / count over the batch
  case LossOp::SoftmaxCrossEntropy: {
    NodeId count = c.b.op(OpKind::Count, {a}, "", 0);
    NodeId hot = c.b.oneHot(y, c.type(a).dims[1]);
    NodeId diff = c.binary(OpKind::Sub, c.unary(OpKind::Softmax, a), hot);
    c.contribute(a, c.scaleByLoss(diff, dy, count));
    return;
  }
  case LossOp::Mse:
    mseGrad(c, a, y, dy);
    return;
  }
  NN_UNREACHABLE("bad LossOp");
}

} // namespace nn
