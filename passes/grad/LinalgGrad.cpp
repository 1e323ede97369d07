//===- LinalgGrad.cpp - Gradient rules of matmul, transpose, expand -------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

void linalgGrad(GradContext &c, NodeId id, NodeId dy) {
  // Copies: appending nodes may move the graph's storage.
  const std::vector<NodeId> in = c.g[id].inputs;
  NodeId a = in[0];
  NodeId d = in.size() < 2 ? -1 : in[1];

  switch (member<LinalgOp>(c.g[id].op)) {
  // Y = A @ B: dA = dY @ B^T, dB = A^T @ dY
  // y = A @ b (b a vector): dA[i,j] = dy[i] * b[j], dB = A^T @ dy
  case LinalgOp::MatMul:
    if (c.wants(a)) {
      if (c.type(d).rank() == 2) {
        c.contribute(
            a, c.binary(OpKind::MatMul, dy, c.unary(OpKind::Transpose, d)));
      } else {
        NodeId rows = c.expandAlong(dy, a, 1); // dy[i] along each row
        c.contribute(a, c.binary(OpKind::Mul, rows, d));
      }
    }
    if (c.wants(d))
      c.contribute(d,
                   c.binary(OpKind::MatMul, c.unary(OpKind::Transpose, a), dy));
    return;
  // d/dA A^T = the transpose of dY
  case LinalgOp::Transpose:
    c.contribute(a, c.unary(OpKind::Transpose, dy));
    return;
  // expand(a, s) copies a along broadcast axes: summed back; s gives a shape
  case LinalgOp::Expand:
    if (c.wants(a))
      c.contribute(a, c.unbroadcast(dy, a));
    return;
  // the same elements back in a's shape
  case LinalgOp::Reshape:
    if (c.wants(a))
      c.contribute(a, c.b.reshape(dy, c.type(a).dims));
    return;
  }
  NN_UNREACHABLE("bad LinalgOp");
}

} // namespace nn
