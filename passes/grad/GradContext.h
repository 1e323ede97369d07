//===- GradContext.h - What a gradient rule may do -------------*- C++ -*-===//
//-*-===//
///
/// \file
/// The interface between the autodiff driver (passes/Autodiff.cpp: the
/// reverse sweep and the accumulation of contributions) and the gradient
/// rules, one file per op family (passes/grad/<Family>Grad.cpp). A rule
/// reads its node, builds the backward ops with `b` and leaves one
/// contribution per differentiated operand with `contribute`.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/Builder.h"

#include <map>
#include <vector>

namespace nn {

class GradContext {
public:
  GradContext(Graph &g, std::vector<bool> marked)
      : g(g), b(g), marked(std::move(marked)) {}

  Graph &g;
  /// Builds the backward ops; its location is the rule's node's.
  Builder b;

  TensorType type(NodeId id) const { return g[id].type; }
  /// Whether operand `x` (-1: absent) needs a gradient.
  bool wants(NodeId x) const { return x >= 0 && marked[x]; }
  /// Leaves `grad` (with `operand`'s shape) for `operand`; nothing when the
  /// operand needs no gradient.
  void contribute(NodeId operand, NodeId grad);
  /// The contributions left for `id`, in the order they were made.
  const std::vector<NodeId> &contributions(NodeId id) { return contribs[id]; }

  NodeId binary(OpKind k, NodeId a, NodeId c) { return b.binary(k, a, c); }
  NodeId unary(OpKind k, NodeId a) { return b.unary(k, a); }
  /// -a, log(a), sigmoid(a): the elementwise ops the rules of other
  /// families build (defined in ElementwiseGrad.cpp, the one file here that
  /// names individual elementwise ops).
  NodeId neg(NodeId a);
  NodeId log(NodeId a);
  NodeId sigmoid(NodeId a);

  /// `v` with the same elements arranged in `like`'s shape: [n] <-> [n,1],
  /// [k] -> [1,k].
  NodeId reshapeLike(NodeId v, NodeId like);
  /// `v` (a broadcast result) summed back to the shape of `like`.
  NodeId unbroadcast(NodeId v, NodeId like);
  /// `v`, a reduction of `like` over `axis`, broadcast back to its shape.
  NodeId expandAlong(NodeId v, NodeId like, int64_t axis);
  /// v * (dL / count).
  NodeId scaleByLoss(NodeId v, NodeId dL, NodeId count);

private:
  std::vector<bool> marked;
  std::map<NodeId, std::vector<NodeId>> contribs;
};

/// The gradient rules of each differentiable family: node `id`'s summed
/// gradient is `dy`; each leaves contributions for the node's operands.
void elementwiseGrad(GradContext &c, NodeId id, NodeId dy);
void linalgGrad(GradContext &c, NodeId id, NodeId dy);
void reduceGrad(GradContext &c, NodeId id, NodeId dy);
void rowsGrad(GradContext &c, NodeId id, NodeId dy);
void randomGrad(GradContext &c, NodeId id, NodeId dy);
void spatialGrad(GradContext &c, NodeId id, NodeId dy);
void lossGrad(GradContext &c, NodeId id, NodeId dy);

} // namespace nn
