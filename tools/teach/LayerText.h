//===- LayerText.h - Textbook equations of a layer -------------*- C++ -*-===//
///
/// \file
/// What `nnc explain` writes above a statement's equations when it
/// recognizes a dense layer or a loss: the equations as a textbook shows
/// them (Z = X W + b, dZ = dA * act'(Z), ...).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// The textbook equations of a dense layer among `ids` (the nodes of one
/// source line): matmul of a value by a weight Param, plus a bias Param,
/// optionally an activation; "" when there is none. `l2` > 0 adds the
/// penalty's gradient to dW.
std::string denseLayerText(const Graph &g, const std::vector<NodeId> &ids,
                           double l2);

/// The textbook equations of a layer_norm among `ids`: normalize of a
/// value, times a weight Param, plus a bias Param; "" when there is none
/// (NormText.cpp).
std::string layerNormText(const Graph &g, const std::vector<NodeId> &ids);

/// The forward and backward of a stable loss among `ids`, or "".
std::string lossText(const Graph &g, const std::vector<NodeId> &ids);

} // namespace nn
