//===- LeafValues.h - Values for a graph's leaves in fusion tests -*- C++ -*-===//
///
/// \file
/// What the fusion tests share to run a graph on the interpreter: a value
/// for every leaf (inputs, labels, parameters, state; not constants), each
/// element given by a function of the node and the element's index; and the
/// check that a rewritten graph computes the original's outputs.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

/// Expects `got` to compute every output of `want` on `leaves`, each element
/// within `rtol` relative to max(1, |want|).
inline void expectSameOutputs(const Graph &want, const Graph &got,
                              const ValueMap &leaves, double rtol) {
  Interpreter::Result a = Interpreter(want).step(leaves);
  Interpreter::Result b = Interpreter(got).step(leaves);
  ASSERT_FALSE(a.outputs.empty());
  for (const auto &[name, w] : a.outputs) {
    const Value &v = b.outputs.at(name);
    ASSERT_EQ(w.shape, v.shape) << name;
    double most = 0;
    for (int64_t i = 0; i < w.numel(); ++i)
      most = std::max(most, std::fabs(v.data[i] - w.data[i]) /
                                std::max(1.0, std::fabs(w.data[i])));
    EXPECT_LE(most, rtol) << name;
  }
}

} // namespace nn::test
