//===- GradCase.h - Gradient-check cases built by hand ---------*- C++ -*-===//
///
/// \file
/// A forward graph built by hand with the values of its leaves (Params with
/// random values from fixed seeds), a loss of fixed random weights, and the
/// checks the gradient-check tests share (GradCheckTest, SpatialGradTest).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "TestGraphs.h"

#include "ir/Diagnostics.h"
#include "passes/InferShapes.h"
#include "runtime/GradCheck.h"

#include <gtest/gtest.h>

namespace nn::test {

/// Builds a forward graph and the values of its leaves.
struct GradCase {
  Graph g;
  ValueMap leaves;
  uint64_t seed = 1;

  /// A Param `name` with random values in [lo, hi).
  NodeId param(const std::string &name, std::vector<int64_t> dims, double lo,
               double hi) {
    NodeId id = leaf(g, OpKind::Param, name, f32(dims));
    leaves[name] = val(dims, randomValues(TensorType::of(dims).numel(), lo,
                                          hi, seed++));
    return id;
  }
  /// A Param away from 0: magnitudes in [lo, hi), random signs.
  NodeId signedParam(const std::string &name, std::vector<int64_t> dims,
                     double lo, double hi) {
    NodeId id = param(name, dims, lo, hi);
    std::vector<double> signs = randomValues(leaves[name].numel(), -1, 1,
                                             seed++);
    for (size_t i = 0; i < signs.size(); ++i)
      if (signs[i] < 0)
        leaves[name].data[i] = -leaves[name].data[i];
    return id;
  }
  /// An Input `name` of type f32[N, dims...] with `batch` random rows.
  NodeId input(const std::string &name, std::vector<int64_t> dims,
               int64_t batch) {
    std::vector<int64_t> t = {kBatch}, v = {batch};
    t.insert(t.end(), dims.begin(), dims.end());
    v.insert(v.end(), dims.begin(), dims.end());
    NodeId id = leaf(g, OpKind::Input, name, f32(t));
    leaves[name] = val(v, randomValues(TensorType::of(v).numel(), -1, 1,
                                       seed++));
    return id;
  }
  /// A class label with these ids; `batched` gives it type i32[N].
  NodeId classes(const std::string &name, int64_t classes,
                 std::vector<double> ids, bool batched) {
    NodeId id = classLabel(g, name, classes);
    int64_t n = static_cast<int64_t>(ids.size());
    if (!batched)
      g[id].type = TensorType::of({n}, DType::I32);
    leaves[name] = val({n}, std::move(ids));
    return id;
  }
  NodeId add(OpKind k, std::vector<NodeId> in, int64_t axis = -1) {
    return op(g, k, std::move(in), {}, axis);
  }
  /// The type of `id` as shape inference gives it.
  TensorType typeOf(NodeId id) const {
    DiagEngine d;
    return inferShapes(g, d)[id].type;
  }
  /// sum(y * W) for fixed random weights W of y's shape (no batch dim).
  NodeId weightedSum(NodeId y) {
    TensorType t = typeOf(y);
    Node w = makeNode(OpKind::Const, {});
    w.type = t;
    w.values = randomValues(t.numel(), -1, 1, seed++);
    if (t.isScalar())
      w.values = {0.7};
    NodeId wId = g.add(std::move(w));
    return add(OpKind::Sum, {add(OpKind::Mul, {y, wId})});
  }
  /// Sets the loss, infers shapes and runs the check.
  GradCheckReport check(NodeId loss, int maxPerParam = 50) {
    g.outputs.push_back({"loss", loss});
    DiagEngine d;
    Graph typed = inferShapes(g, d);
    return gradCheck(typed, leaves, maxPerParam);
  }
};

/// Every checked element passes, and there were some.
inline void expectPasses(const GradCheckReport &r, const std::string &what) {
  EXPECT_GT(r.entries.size(), 0u) << what;
  EXPECT_EQ(r.failures, 0) << what << "\n" << formatGradCheck(r);
}

/// The number of checked elements of `param`.
inline size_t checkedOf(const GradCheckReport &r, const std::string &param) {
  size_t n = 0;
  for (const GradCheckEntry &e : r.entries)
    n += e.param == param;
  return n;
}

} // namespace nn::test
