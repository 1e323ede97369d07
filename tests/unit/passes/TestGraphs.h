//===- TestGraphs.h - Hand-built graphs for pass and IR tests --*- C++ -*-===//
///
/// \file
/// Small forward graphs shaped like what the frontend lowers the examples
/// to, built by hand so the pass tests do not depend on the frontend.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn::test {

inline SrcLoc at(int line, int col, int len = 1) {
  return {"t.nn", line, col, len};
}

inline NodeId leaf(Graph &g, OpKind op, const std::string &name,
                   TensorType t, SrcLoc loc = {}) {
  Node n = makeNode(op, {}, loc);
  n.name = name;
  n.type = std::move(t);
  return g.add(std::move(n));
}

inline NodeId param(Graph &g, const std::string &name,
                    std::vector<int64_t> dims, bool weight, SrcLoc loc = {}) {
  Node n = makeNode(OpKind::Param, {}, loc);
  n.name = name;
  n.type = TensorType::of(std::move(dims));
  n.isWeight = weight;
  n.storedTransposed = weight;
  n.init.kind = weight ? InitKind::He : InitKind::Zeros;
  return g.add(std::move(n));
}

inline NodeId op(Graph &g, OpKind k, std::vector<NodeId> ins,
                 const std::string &name = "", SrcLoc loc = {}) {
  Node n = makeNode(k, std::move(ins), loc);
  n.name = name;
  return g.add(std::move(n));
}

inline NodeId constant(Graph &g, double v, SrcLoc loc = {}) {
  Node n = makeNode(OpKind::Const, {}, loc);
  n.values = {v};
  n.type = TensorType::scalar();
  return g.add(std::move(n));
}

/// `dense(x, out, act)` as the frontend lowers it: x @ W + b, then act.
inline NodeId dense(Graph &g, NodeId x, int64_t in, int64_t out,
                    const std::string &name, std::optional<OpKind> act,
                    int line) {
  NodeId w = param(g, name + ".weight", {in, out}, true, at(line, 1));
  NodeId b = param(g, name + ".bias", {out}, false, at(line, 1));
  NodeId mm = op(g, OpKind::MatMul, {x, w}, "", at(line, 7, 5));
  NodeId z = op(g, OpKind::Add, {mm, b}, act ? "" : name, at(line, 7, 5));
  if (!act)
    return z;
  return op(g, *act, {z}, name, at(line, 7, 5));
}

/// The lecture's MLP in small: 4 -> 8 (relu) -> 3, cross_entropy(softmax).
inline Graph mlpGraph() {
  Graph g;
  g.name = "mlp";
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 4}), at(3, 7));
  Node yl = makeNode(OpKind::Label, {}, at(4, 7));
  yl.name = "y";
  yl.type = TensorType::of({kBatch}, DType::I32);
  yl.labelKind = LabelKind::Class;
  yl.classes = 3;
  NodeId y = g.add(yl);
  NodeId h = dense(g, x, 4, 8, "fc1", OpKind::Relu, 6);
  NodeId z = dense(g, h, 8, 3, "fc2", std::nullopt, 7);
  NodeId p = op(g, OpKind::Softmax, {z}, "", at(8, 20, 7));
  NodeId l = op(g, OpKind::CrossEntropy, {p, y}, "loss", at(8, 6, 13));
  g.outputs.push_back({"loss", l});
  g.outputs.push_back({"pred", p});
  return g;
}

/// The churn neuron: p = sigmoid(x @ w + b), loss bce(p, y).
inline Graph churnGraph() {
  Graph g;
  g.name = "churn";
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 2}), at(4, 7));
  Node yl = makeNode(OpKind::Label, {}, at(5, 7));
  yl.name = "y";
  yl.type = TensorType::of({kBatch});
  yl.labelKind = LabelKind::Binary;
  NodeId y = g.add(yl);
  Node wn = makeNode(OpKind::Param, {}, at(7, 7));
  wn.name = "w";
  wn.type = TensorType::of({2});
  wn.init.kind = InitKind::Values;
  wn.values = {0.1, 0.5};
  wn.isWeight = true;
  NodeId w = g.add(wn);
  Node bn = makeNode(OpKind::Param, {}, at(8, 7));
  bn.name = "b";
  bn.type = TensorType::scalar();
  bn.init.kind = InitKind::Values;
  bn.values = {0.4};
  NodeId b = g.add(bn);
  NodeId mm = op(g, OpKind::MatMul, {x, w}, "", at(10, 5, 5));
  NodeId z = op(g, OpKind::Add, {mm, b}, "z", at(10, 5, 9));
  NodeId p = op(g, OpKind::Sigmoid, {z}, "p", at(11, 5, 10));
  NodeId l = op(g, OpKind::Bce, {p, y}, "loss", at(12, 6, 8));
  g.outputs.push_back({"loss", l});
  g.outputs.push_back({"pred", p});
  return g;
}

} // namespace nn::test
