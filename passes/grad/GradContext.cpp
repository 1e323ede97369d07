//===- GradContext.cpp - Shape helpers of the gradient rules
//---------------===//
///
/// \file
/// Algorithm: a contribution to a broadcast operand is summed back over the
/// axes broadcasting added or stretched; a reduction's gradient is expanded
/// back along the reduced axis. There is no reshape op, so Expand,
/// Transpose and Sum rearrange [n], [n,1] and [1,k].
///
//===----------------------------------------------------------------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

#include <algorithm>

namespace nn {

void GradContext::contribute(NodeId operand, NodeId grad) {
  if (!marked[operand])
    return;
  NN_ASSERT(type(grad).dims == type(operand).dims,
            "gradient of node " + std::to_string(operand) + " has type " +
                type(grad).str() + ", expected " + type(operand).str());
  contribs[operand].push_back(grad);
}

NodeId GradContext::reshapeLike(NodeId v, NodeId like) {
  const std::vector<int64_t> vd = type(v).dims, ld = type(like).dims;
  if (vd == ld)
    return v;
  if (ld.size() == vd.size() + 1 && ld[0] == 1 &&
      std::equal(vd.begin(), vd.end(), ld.begin() + 1))
    return b.binary(OpKind::Expand, v, like); // [k] -> [1,k]
  if (ld.size() == 2 && vd.size() == 1 && ld[1] == 1 && ld[0] == vd[0])
    // [n] -> [1,n] -> [n,1]
    return unary(OpKind::Transpose,
                 binary(OpKind::Expand, v, unary(OpKind::Transpose, like)));
  if (vd.size() == 2 && ld.size() == 1 && vd[1] == 1 && vd[0] == ld[0])
    return b.op(OpKind::Sum, {v}, "", 1); // [n,1] -> [n]
  throw UserError(g[like].loc.str() + (g[like].loc.valid() ? ": " : "") +
                  "error: autodiff cannot reshape " + type(v).str() + " to " +
                  type(like).str());
}

NodeId GradContext::unbroadcast(NodeId v, NodeId like) {
  const TensorType target = type(like);
  if (type(v).dims == target.dims)
    return v;
  if (target.isScalar())
    return b.op(OpKind::Sum, {v}, "", -1);
  // Leading axes that broadcasting added.
  while (type(v).rank() > target.rank())
    v = b.op(OpKind::Sum, {v}, "", 0);
  // Axes where `like` has 1 and the result has more.
  for (int64_t ax = target.rank() - 1; ax >= 0; --ax)
    if (target.dims[ax] == 1 && type(v).dims[ax] != 1) {
      v = b.op(OpKind::Sum, {v}, "", ax);
      v = reshapeLike(v, like);
    }
  return v;
}

NodeId GradContext::expandAlong(NodeId v, NodeId like, int64_t axis) {
  int64_t rank = type(like).rank();
  if (axis == -1 || axis == 0)
    return binary(OpKind::Expand, v, like); // trailing dimensions line up
  if (axis == 1 && rank == 2)
    // [m] -> [n,m] -> [m,n]
    return unary(OpKind::Transpose,
                 binary(OpKind::Expand, v, unary(OpKind::Transpose, like)));
  throw UserError(g[like].loc.str() + (g[like].loc.valid() ? ": " : "") +
                  "error: autodiff supports reductions over axis 0 or the "
                  "last axis of a matrix, not axis " +
                  std::to_string(axis) + " of " + type(like).str());
}

NodeId GradContext::scaleByLoss(NodeId v, NodeId dL, NodeId count) {
  return binary(OpKind::Mul, v, binary(OpKind::Div, dL, count));
}

} // namespace nn
