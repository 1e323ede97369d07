//===- Sgd.cpp - Stochastic gradient descent ------------------------------===//
///
/// \file
/// PyTorch's SGD: with momentum mu != 0 each parameter w has a state leaf v
/// ("optimizer.<w>.momentum", zero at first) and
///   v' = mu * v + g,   w' = w - lr * v'
/// and without momentum w' = w - lr * g. The scalars lr and momentum are
/// Consts shared by every parameter. passes/FuseSgd.cpp turns these forms
/// into the fused.sgd_momentum and fused.sgd ops of ir/Ops.def.
///
//===----------------------------------------------------------------------===//

#include "passes/optim/Optimizer.h"

namespace nn {

void addSgdUpdates(OptimizerContext &c) {
  const OptimizerSpec &opt = c.spec;
  NodeId lr = -1, mu = -1;
  for (auto [p, grad] : c.params) {
    c.b.loc = c.g[p].loc;
    if (lr < 0) {
      lr = c.b.constant(opt.lr, "lr");
      if (opt.momentum != 0)
        mu = c.b.constant(opt.momentum, "momentum");
    }
    NodeId step = grad;
    if (opt.momentum != 0) {
      // v' = momentum * v + g
      NodeId v = c.stateLeaf(p, "momentum");
      step = c.b.binary(OpKind::Add, c.b.binary(OpKind::Mul, mu, v), grad,
                        "new." + c.g[v].name);
      c.update(v, step);
    }
    // w' = w - lr * step
    NodeId w = c.b.binary(OpKind::Sub, p, c.b.binary(OpKind::Mul, lr, step),
                          "new." + c.g[p].name);
    c.update(p, w);
  }
}

} // namespace nn
