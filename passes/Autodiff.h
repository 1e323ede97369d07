//===- Autodiff.h - Reverse-mode differentiation ---------------*- C++ -*-===//
///
/// \file
/// Appends the backward pass (and optionally the optimizer update) to a
/// shape-inferred forward graph, as ordinary ops the reader can follow.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"

namespace nn {

/// Reverse mode from the output "loss" (seed: Const 1.0). The gradient of
/// node X is named "d.X". With `opt == nullptr` adds an output
/// "grad.<param>" for every Param reachable from the loss and no updates;
/// with `opt`, adds the SGD update (PyTorch semantics; a State leaf
/// "optimizer.<param>.momentum" when momentum != 0). `g` must have known
/// types (run inferShapes first) and an output "loss"; the result's new
/// nodes have known types too.
Graph differentiate(const Graph &g, const OptimizerSpec *opt = nullptr);

} // namespace nn
