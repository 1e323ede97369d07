//===- UpdateChains.h - The optimizer's updates, chained per parameter -*- C++ -*-===//
///
/// \file
/// Which nodes of a step the backends compute in one loop per parameter
/// (codegen/cpu/EmitUpdates.cpp, codegen/cuda/CudaChains.cpp): the updates
/// of one parameter (a fused.adam reading the fused.adam_moment and
/// fused.adam_variance of the same step, a fused.sgd reading its
/// fused.sgd_momentum), with the gradient they read when nothing else reads
/// it (l2's `2 lambda w + g`, a folded gradient): the loop computes it from
/// its operands and never stores it. Each member's value is what its own
/// kernel computes (emitChainMember), so a chain's results are bit for bit
/// those of separate kernels. No LLVM here.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ElementwiseMath.h"
#include "ir/FusedMath.h"
#include "ir/Graph.h"
#include "ir/Support.h"

#include <span>
#include <vector>

namespace nn {

/// The chains of `nodes` (ascending): nodes joined when one reads another;
/// each chain ascending, in the order of its first node.
std::vector<std::vector<NodeId>> chainsOf(const Graph &g,
                                          const std::vector<NodeId> &nodes);

/// Whether node `id` is a folded gradient: a fused.elementwise, add, sub or
/// mul whose every use (`uses`: Graph::useCounts) is an update (Update
/// family) of its shape (Adam's moment and variance read the same one),
/// every operand of that shape or a scalar. The updates' chain computes it
/// inline.
bool isFoldedGradient(const Graph &g, NodeId id, const std::vector<int> &uses);

/// Whether node `id` is folded into a sum: an add, sub, mul, div or neg, or
/// a fused.elementwise of those alone, whose one use is a sum or mean over
/// every element (l2's `sum(mul(w, w))`), every operand of its shape or a
/// scalar, in a graph that went through a fusion (--fuse=none keeps one
/// kernel per op). The sum's loop computes it (vectorized, the same bits
/// as the values read back) and it is never stored.
bool isFoldedIntoSum(const Graph &g, NodeId id, const std::vector<int> &uses);

/// The first node that reads `id` (the update of a folded gradient, the sum
/// of a value folded into it), or -1.
NodeId foldedInto(const Graph &g, NodeId id);

/// The members of `g`'s update chains, ascending: every update and, with
/// `fold`, every folded gradient.
std::vector<NodeId> updateChainNodes(const Graph &g, bool fold);

/// Whether every node of `chain` has the dims of its last one.
bool sameShape(const Graph &g, const std::vector<NodeId> &chain);

/// Whether operand `t` of chain member `n` is one value, loaded once before
/// the loop at index 0: an update's last operand (its hyperparameter), and
/// every scalar operand of a tensor's member.
bool isHoistedOperand(const Graph &g, const Node &n, size_t t);

/// The value of chain member `n` (an update or a folded gradient) on one
/// element of each operand, as its own kernel computes it.
template <class E>
typename E::Value emitChainMember(E &e, const Node &n,
                                  std::span<const typename E::Value> args) {
  switch (family(n.op)) {
  case OpFamily::Update:
    return emitUpdate(e, member<UpdateOp>(n.op), args);
  case OpFamily::FusedElementwise:
    return emitFusedBody(e, n.body, args);
  case OpFamily::Elementwise:
    return emitElementwise(e, n.op, args, n.param);
  case OpFamily::Leaf:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
  case OpFamily::Dense:
  case OpFamily::LossGrad:
    break;
  }
  NN_UNREACHABLE(std::string("not an update chain member: ") +
                 mnemonic(n.op));
}

} // namespace nn
