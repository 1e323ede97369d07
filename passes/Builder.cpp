//===- Builder.cpp - Appending typed nodes --------------------------------===//
///
/// \file
/// Algorithm: make the node, type it with inferNodeType, append it. A shape
/// error here is a bug in the pass that built the node.
///
//===----------------------------------------------------------------------===//

#include "passes/Builder.h"
#include "passes/ShapeRules.h"

#include "ir/Support.h"

namespace nn {

NodeId Builder::op(OpKind k, std::vector<NodeId> inputs, std::string name,
                   int64_t axis) {
  Node n = makeNode(k, std::move(inputs), loc);
  n.name = std::move(name);
  n.axis = axis;
  ShapeResult r = inferNodeType(g, n);
  NN_ASSERT(r.error.empty(), "pass built an ill-typed node: " + r.error);
  n.type = r.type;
  return g.add(std::move(n));
}

NodeId Builder::oneHot(NodeId ids, int64_t classes, std::string name) {
  Node n = makeNode(OpKind::OneHot, {ids}, loc);
  n.name = std::move(name);
  n.classes = classes;
  ShapeResult r = inferNodeType(g, n);
  NN_ASSERT(r.error.empty(), "pass built an ill-typed node: " + r.error);
  n.type = r.type;
  return g.add(std::move(n));
}

NodeId Builder::typed(Node n) {
  n.loc = loc;
  ShapeResult r = inferNodeType(g, n);
  NN_ASSERT(r.error.empty(), "pass built an ill-typed node: " + r.error);
  n.type = r.type;
  return g.add(std::move(n));
}

NodeId Builder::reshape(NodeId v, std::vector<int64_t> dims,
                        std::string name) {
  Node n = makeNode(OpKind::Reshape, {v}, loc);
  n.name = std::move(name);
  n.shape = std::move(dims);
  return typed(std::move(n));
}

NodeId Builder::constant(double v, std::string name) {
  Node n = makeNode(OpKind::Const, {}, loc);
  n.name = std::move(name);
  n.values = {v};
  n.type = TensorType::scalar();
  return g.add(std::move(n));
}

} // namespace nn
