//===- AddL2.cpp - L2 weight penalty --------------------------------------===//
///
/// \file
/// Algorithm: for each Param marked as a weight (biases are not), square it
/// elementwise and sum to a scalar; add the sums up, scale by lambda and add
/// the penalty to the loss. The output "loss" then names the new sum, so
/// autodiff sees the penalty: its gradient is 2 * lambda * w.
///
//===----------------------------------------------------------------------===//

#include "passes/AddL2.h"
#include "passes/Builder.h"

namespace nn {

Graph addL2(const Graph &g, double lambda) {
  std::optional<NodeId> loss = g.output("loss");
  if (lambda == 0 || !loss)
    return g;
  Graph out = g;
  Builder b(out);
  NodeId total = -1;
  for (NodeId w : g.leaves(OpKind::Param)) {
    if (!g[w].isWeight || g[w].buffer) // buffers: running statistics
      continue;
    b.loc = g[w].loc;
    NodeId sq = b.binary(OpKind::Mul, w, w);
    NodeId s = b.op(OpKind::Sum, {sq}, "", -1);
    total = total < 0 ? s : b.binary(OpKind::Add, total, s);
  }
  if (total < 0)
    return g; // no weights
  b.loc = g[*loss].loc;
  NodeId penalty =
      b.binary(OpKind::Mul, b.constant(lambda, "l2.lambda"), total, "l2");
  NodeId sum = b.binary(OpKind::Add, *loss, penalty, "loss.l2");
  for (Output &o : out.outputs)
    if (o.name == "loss")
      o.node = sum;
  return out;
}

} // namespace nn
