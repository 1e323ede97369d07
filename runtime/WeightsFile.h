//===- WeightsFile.h - Weights and checkpoints as safetensors ---*- C++ -*-===//
///
/// \file
/// Maps a graph's Param and State leaves to a safetensors file as PyTorch
/// lays it out: a dense layer `fc1` stores `fc1.weight` as [out, in] (the
/// graph holds [in, out] and is transposed on the way) and `fc1.bias` as
/// [out]; momentum buffers are `optimizer.<param>.momentum`, laid out like
/// their parameter. Training progress goes in `__metadata__`.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>

namespace nn {

using Metadata = std::map<std::string, std::string>;

/// Writes every Param (and, with `withState`, every State) leaf of `g` found
/// in `values`, plus `extra` tensors stored as they are, atomically.
void saveWeights(const std::string &path, const Graph &g,
                 const TensorMap &values, const Metadata &metadata,
                 bool withState, const TensorMap &extra = {});

struct LoadedWeights {
  TensorMap values;  // Param (and State when present) leaves, graph layout
  TensorMap extra;   // tensors that are not leaves of the graph
  Metadata metadata;
};

/// Reads a weights file for `g`. Every Param must be present with the right
/// shape; with `requireState` every State leaf too. Otherwise throws
/// UserError naming the file, the model and every mismatched tensor.
/// Tensors named with a prefix in `extraPrefixes`, and a checkpoint's
/// early-stopping copies "best.<leaf>", go to `extra` (so a checkpoint loads
/// wherever weights do); any other unknown tensor is a mismatch. Any tensor
/// holding NaN or infinities is an error naming it and the count.
LoadedWeights loadWeights(const std::string &path, const Graph &g,
                          bool requireState,
                          const std::vector<std::string> &extraPrefixes = {});

/// A 2-D tensor transposed; other ranks unchanged.
Tensor transposed(const Tensor &t);

} // namespace nn
