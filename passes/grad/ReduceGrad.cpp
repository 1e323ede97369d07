//===- ReduceGrad.cpp - Gradient rules of the reductions and rows ops -----===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

void reduceGrad(GradContext &c, NodeId id, NodeId dy) {
  const NodeId a = c.g[id].inputs[0];
  const int64_t axis = c.g[id].axis;
  switch (member<ReduceOp>(c.g[id].op)) {
  // d/da sum(a) = 1 for each element: dy broadcast back
  case ReduceOp::Sum:
    c.contribute(a, c.expandAlong(dy, a, axis));
    return;
  // d/da mean(a) = 1/count for each element
  case ReduceOp::Mean: {
    NodeId count = c.b.op(OpKind::Count, {a}, "", axis);
    c.contribute(a, c.expandAlong(c.binary(OpKind::Div, dy, count), a, axis));
    return;
  }
  // count does not depend on the values
  case ReduceOp::Count:
    return;
  }
  NN_UNREACHABLE("bad ReduceOp");
}

void rowsGrad(GradContext &c, NodeId id, NodeId dy) {
  const NodeId a = c.g[id].inputs[0];
  switch (member<RowsOp>(c.g[id].op)) {
  // y = softmax(a): da = y * (dy - sum(dy * y) over the last axis)
  case RowsOp::Softmax: {
    int64_t last = c.type(a).rank() - 1;
    NodeId dot = c.b.op(OpKind::Sum, {c.binary(OpKind::Mul, dy, id)}, "",
                        last == 0 ? -1 : last);
    NodeId back = c.expandAlong(dot, a, last == 0 ? -1 : last);
    c.contribute(a, c.binary(OpKind::Mul, id, c.binary(OpKind::Sub, dy, back)));
    return;
  }
  // class ids are not differentiable
  case RowsOp::OneHot:
    return;
  // y = normalize(a): the rule in one op (Ops.def), eps carried along
  case RowsOp::Normalize: {
    NodeId da = c.b.op(OpKind::NormalizeGrad, {dy, a});
    c.g[da].param = c.g[id].param;
    c.contribute(a, da);
    return;
  }
  case RowsOp::NormalizeGrad:
    throw UserError("error: normalize_grad has no gradient (nnc "
                    "differentiates once)");
  }
  NN_UNREACHABLE("bad RowsOp");
}

} // namespace nn
