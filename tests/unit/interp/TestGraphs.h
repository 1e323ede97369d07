//===- TestGraphs.h - Hand-built graphs for interpreter tests --*- C++ -*-===//
///
/// \file
/// Small helpers to build graphs by hand, with types set by hand, so the
/// interpreter can be tested without the frontend or shape inference.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nn::test {

/// f32 type with these dims (kBatch allowed).
inline TensorType f32(std::vector<int64_t> dims) {
  return TensorType::of(std::move(dims));
}

/// A leaf of kind `op` named `name`.
inline NodeId leaf(Graph &g, OpKind op, std::string name, TensorType t) {
  Node n = makeNode(op, {});
  n.name = std::move(name);
  n.type = std::move(t);
  return g.add(std::move(n));
}

/// A class label leaf: i32[N], `classes` classes.
inline NodeId classLabel(Graph &g, std::string name, int64_t classes) {
  Node n = makeNode(OpKind::Label, {});
  n.name = std::move(name);
  n.type = TensorType::of({kBatch}, DType::I32);
  n.labelKind = LabelKind::Class;
  n.classes = classes;
  return g.add(std::move(n));
}

/// A scalar (or splat) constant.
inline NodeId constant(Graph &g, double v, TensorType t = TensorType::scalar()) {
  Node n = makeNode(OpKind::Const, {});
  n.values = {v};
  n.type = std::move(t);
  return g.add(std::move(n));
}

/// A non-leaf node; `t` may be left unknown ({}).
inline NodeId op(Graph &g, OpKind k, std::vector<NodeId> in, TensorType t = {},
                 int64_t axis = -1) {
  Node n = makeNode(k, std::move(in));
  n.type = std::move(t);
  n.axis = axis;
  return g.add(std::move(n));
}

/// A value with this shape and data.
inline Value val(std::vector<int64_t> shape, std::vector<double> data) {
  return Value{std::move(shape), std::move(data)};
}

/// `n` values uniform in [lo, hi) from a fixed-seed generator (the same on
/// every run: std::mt19937_64's output sequence is fixed by the standard;
/// the mapping to doubles is done here, not by a std distribution).
inline std::vector<double> randomValues(int64_t n, double lo, double hi,
                                        uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> r;
  for (int64_t i = 0; i < n; ++i)
    r.push_back(lo + (hi - lo) * static_cast<double>(gen() >> 11) * 0x1p-53);
  return r;
}

} // namespace nn::test
