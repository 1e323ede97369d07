//===- Builder.h - Appending typed nodes (pass-internal) -------*- C++ -*-===//
///
/// \file
/// A small helper for passes that create nodes: each new node gets its type
/// from the shape rules and the builder's current source location.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>

namespace nn {

class Builder {
public:
  explicit Builder(Graph &g) : g(g) {}

  /// The location given to the nodes created next.
  SrcLoc loc;

  /// Appends `op(inputs)` with its inferred type; `axis` for reductions.
  NodeId op(OpKind k, std::vector<NodeId> inputs, std::string name = "",
            int64_t axis = -1);
  NodeId unary(OpKind k, NodeId a, std::string name = "") {
    return op(k, {a}, std::move(name));
  }
  NodeId binary(OpKind k, NodeId a, NodeId b, std::string name = "") {
    return op(k, {a, b}, std::move(name));
  }
  /// onehot(ids) with `classes` classes.
  NodeId oneHot(NodeId ids, int64_t classes, std::string name = "");
  /// reshape(v) to `dims` (Node::shape).
  NodeId reshape(NodeId v, std::vector<int64_t> dims, std::string name = "");
  /// Appends `n`, its attributes set by the caller (a spatial op's window),
  /// with its inferred type and the builder's location.
  NodeId typed(Node n);
  /// An f32 scalar Const.
  NodeId constant(double v, std::string name = "");

  const TensorType &type(NodeId id) const { return g[id].type; }

private:
  Graph &g;
};

} // namespace nn
