//===- LeafValues.h - Values for a graph's leaves in fusion tests -*- C++ -*-===//
///
/// \file
/// What the fusion tests share to run a graph on the interpreter: a value
/// for every leaf (inputs, labels, parameters, state; not constants), each
/// element given by a function of the node and the element's index.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

namespace nn::test {

/// Every non-constant leaf of `g` at `batch` rows (kBatch dims): element i
/// of leaf n is value(n, i).
template <class F>
ValueMap leafValues(const Graph &g, int64_t batch, F value) {
  ValueMap l;
  for (const Node &n : g.nodes) {
    if (!hasTrait(n.op, kLeaf) || n.op == OpKind::Const)
      continue;
    Value v;
    int64_t k = 1;
    for (int64_t d : n.type.dims) {
      v.shape.push_back(d == kBatch ? batch : d);
      k *= v.shape.back();
    }
    for (int64_t i = 0; i < k; ++i)
      v.data.push_back(value(n, i));
    l[n.name] = v;
  }
  return l;
}

} // namespace nn::test
