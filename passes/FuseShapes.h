//===- FuseShapes.h - Shape rules of the fused ops -------------*- C++ -*-===//
///
/// \file
/// The type of each fused op of Ops.def from its operands' types, used by
/// inferShapes (the fused cases of its switch) and by the fusion passes.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// How many of update op `op`'s operands are tensors of the result's shape
/// (w, m, v for fused.adam; two for the others): the rest are scalars.
size_t updateTensorCount(UpdateOp op);

/// The type of fused node `n` whose operands have `operands` types (all
/// known). On a mismatch sets `err` (lower case, no final period) and
/// returns an unknown type. `n` must be a fused op (kFused).
TensorType fusedOpType(const Node &n, const std::vector<TensorType> &operands,
                       std::string &err);

} // namespace nn
