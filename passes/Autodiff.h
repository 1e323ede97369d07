//===- Autodiff.h - Reverse-mode differentiation ---------------*- C++ -*-===//
///
/// \file
/// Appends the backward pass to a shape-inferred forward graph, as ordinary
/// ops the reader can follow. The optimizer update is a separate pass
/// (passes/optim/Optimizer.h, applyOptimizer) that reads the gradients.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"

namespace nn {

/// Reverse mode from the output "loss" (seed: Const 1.0). The gradient of
/// node X is named "d.X". Adds an output "grad.<param>" for every Param
/// reachable from the loss. With `opt`, then applies that optimizer
/// (applyOptimizer: the outputs give way to the updates; PyTorch
/// semantics). `g` must have known types (run inferShapes first) and an
/// output "loss"; the result's new nodes have known types too.
Graph differentiate(const Graph &g, const OptimizerSpec *opt = nullptr);

} // namespace nn
