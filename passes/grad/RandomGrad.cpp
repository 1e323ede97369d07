//===- RandomGrad.cpp - Gradient rules of the random ops ------------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

void randomGrad(GradContext &c, NodeId id, NodeId dy) {
  const Node &n = c.g[id];
  const NodeId x = n.inputs[0], step = n.inputs[1], first = n.inputs[2];
  switch (member<RandomOp>(n.op)) {
  // y = x * mask / (1 - p): dx = dy * mask / (1 - p), i.e. dropout of dy
  // with the same key (p, seed, stream and step) and first row: the mask is
  // drawn again, not stored. The step and the row are not differentiated.
  case RandomOp::Dropout: {
    const double p = n.param;
    const uint64_t seed = n.seed;
    const int64_t stream = n.stream;
    // The builder may move c.g's nodes: n is not read after this.
    NodeId dx = c.b.op(OpKind::Dropout, {dy, step, first});
    c.g[dx].param = p;
    c.g[dx].seed = seed;
    c.g[dx].stream = stream;
    c.contribute(x, dx);
    return;
  }
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn
