//===- DropoutShards.h - A shard's masks and the batch's ---*- C++ -*-===//
///
/// \file
/// What the interpreter, CPU and CUDA tests of dropout under data
/// parallelism share. A shard of rows [b, e) of a batch runs with the
/// leaf "optimizer.first_row" at b; each of its dropouts, forward and
/// backward, must keep exactly the elements the whole batch's keeps in
/// those rows. The inputs of a backward dropout differ between the two
/// (the mean's 1 / rows), so the check reads the mask off the whole
/// batch's run (kept: a non-zero output of a non-zero input) and expects
/// the shard's output to be its input times the float scale there, 0
/// elsewhere, bit for bit.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Philox.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nn::test {

/// Rows [b, e) of `v`, its first dimension `rows`.
inline Value rowsOf(const Value &v, int64_t rows, int64_t b, int64_t e) {
  const int64_t width = rows ? static_cast<int64_t>(v.data.size()) / rows : 0;
  Value out = v;
  out.shape[0] = e - b;
  out.data.assign(v.data.begin() + b * width, v.data.begin() + e * width);
  return out;
}

/// The leaves of the shard of rows [b, e) of `whole` (`rows` rows): rows
/// [b, e) of each leaf with a batch dimension, the first row b.
inline ValueMap shardLeaves(const Graph &g, const ValueMap &whole, int64_t rows,
                            int64_t b, int64_t e) {
  ValueMap part = whole;
  for (const Node &n : g.nodes)
    if (hasTrait(n.op, kLeaf) && n.type.hasBatch())
      part[n.name] = rowsOf(whole.at(n.name), rows, b, e);
  part[kFirstRowLeaf] = Value::scalar(static_cast<double>(b));
  return part;
}

/// Expects dropout `n` on the shard whose first row is `b` (input `in`,
/// output `out`) to keep what it keeps in the whole batch (input
/// `wholeIn`, output `wholeOut`): out = in * scale where kept, 0 where
/// dropped, in T (double in the interpreter, float in compiled code).
/// Returns how many elements it compared (those whose whole-batch input
/// is not 0).
template <class T>
int64_t
expectWholeBatchMask(const Node &n, int64_t b, const std::vector<T> &wholeIn,
                     const std::vector<T> &wholeOut, const std::vector<T> &in,
                     const std::vector<T> &out, const std::string &what) {
  const size_t first = static_cast<size_t>(b * n.type.numelPerSample());
  const T scale = static_cast<T>(philox::dropoutScale(n.param));
  int64_t checked = 0, bad = 0;
  for (size_t k = 0; k < out.size(); ++k) {
    if (wholeIn.at(first + k) == 0)
      continue; // its mask does not show
    ++checked;
    T want = wholeOut[first + k] != 0 ? in[k] * scale : T(0);
    if (out[k] != want && ++bad <= 5)
      ADD_FAILURE() << what << " element " << k << ": " << out[k]
                    << ", the whole batch's mask gives " << want;
  }
  return checked;
}

} // namespace nn::test
