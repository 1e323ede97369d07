//===- SpatialShapes.h - Shape rules of the spatial ops --------*- C++ -*-===//
///
/// \file
/// The result type of a spatial op (conv2d, pooling, the channel ops of
/// batch norm; semantics in ir/Ops.def) from its operands' types, for
/// passes/InferShapes.cpp and the frontend's located errors.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// The type of spatial node `n` given its operands' (known) types; on a
/// mismatch, an unknown type and `err` says why.
TensorType spatialOpType(const Node &n, const std::vector<TensorType> &ts,
                         std::string &err);

/// The output type of window `win` over an image of type `x`
/// ([N,C,H,W]) with `channels` output channels; on a mismatch (a window
/// larger than the padded input) an unknown type and `err` says why.
TensorType windowOutType(const TensorType &x, const Window &win,
                         int64_t channels, const char *what, std::string &err);

} // namespace nn
