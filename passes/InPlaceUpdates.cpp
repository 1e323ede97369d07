//===- InPlaceUpdates.cpp - Updates written straight into their leaf ------===//

#include "passes/InPlaceUpdates.h"

#include "ir/Support.h"

namespace nn {

namespace {

/// Whether element i of `n`'s result depends only on element i of its
/// operands that have its shape (and on broadcast operands).
bool elementwiseKernel(const Node &n) {
  switch (n.op) {
  case OpKind::Sgd:
  case OpKind::SgdMomentum:
  case OpKind::Elementwise:
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Tanh:
  case OpKind::Step:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
    return true;
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
  case OpKind::MatMul:
  case OpKind::Transpose:
  case OpKind::Expand:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Count:
  case OpKind::Softmax:
  case OpKind::OneHot:
  case OpKind::Bce:
  case OpKind::BceLogits:
  case OpKind::CrossEntropy:
  case OpKind::SoftmaxCrossEntropy:
  case OpKind::Mse:
  case OpKind::Dense:
  case OpKind::FusedMatMul:
  case OpKind::DenseGradInput:
  case OpKind::DenseGradWeight:
  case OpKind::DenseGradBias:
  case OpKind::SoftmaxXentGrad:
  case OpKind::SigmoidBceGrad:
    return false;
  }
  NN_UNREACHABLE("bad OpKind");
}

} // namespace

std::vector<NodeId> inPlaceUpdates(const Graph &g) {
  std::vector<NodeId> into(g.nodes.size(), -1);
  std::vector<int> asValue(g.nodes.size(), 0);
  std::vector<bool> output(g.nodes.size(), false);
  for (const Update &u : g.updates)
    ++asValue[u.value];
  for (const Output &o : g.outputs)
    output[o.node] = true;
  for (const Update &u : g.updates) {
    const Node &v = g[u.value], &t = g[u.target];
    if (hasTrait(v.op, kLeaf) || asValue[u.value] != 1 || output[u.value] ||
        output[u.target] || !elementwiseKernel(v) || !v.type.known ||
        v.type.dims != t.type.dims || v.type.hasBatch())
      continue;
    bool readLater = false;
    for (NodeId id = u.value + 1; id < g.size() && !readLater; ++id)
      for (NodeId in : g[id].inputs)
        readLater |= in == u.target;
    if (!readLater)
      into[u.value] = u.target;
  }
  return into;
}

} // namespace nn
