//===- RandomGrad.cpp - Gradient rules of the random ops ------------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

void randomGrad(GradContext &c, NodeId id, NodeId dy) {
  const Node &n = c.g[id];
  const NodeId x = n.inputs[0], step = n.inputs[1];
  switch (member<RandomOp>(n.op)) {
  // y = x * mask / (1 - p): dx = dy * mask / (1 - p), i.e. dropout of dy
  // with the same key (p, seed, stream and step): the mask is drawn again,
  // not stored. The step is not differentiated.
  case RandomOp::Dropout: {
    const double p = n.param;
    const uint64_t seed = n.seed;
    const int64_t stream = n.stream;
    NodeId dx = c.b.op(OpKind::Dropout, {dy, step}); // may move c.g's nodes
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
