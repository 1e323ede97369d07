//===- EvalForm.h - The graph evaluation runs ------------------*- C++ -*-===//
///
/// \file
/// Evaluation (validation, test, `eval`, `predict`, the compiled forward
/// entry) runs a model as PyTorch's eval mode does: dropout is identity and
/// batch norm normalizes with its running statistics, which evaluation
/// never writes.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// `g` (a typed forward graph) in evaluation form: stripDropout, then every
/// batch_normalize(x, rm, rv) becomes channel_affine(x, s, t) with
/// s = 1 / sqrt(rv + eps) and t = -rm * s (nn.BatchNorm2d in eval mode),
/// and no updates (the running statistics stay as they are); the nodes only
/// those updates read are removed. Last, mergeChannelAffines
/// (passes/MergeAffines.h) makes that affine and batch norm's own weight
/// and bias one channel_affine, which the conv fusion folds into the
/// convolution before it. A graph with none of these comes back
/// unchanged, so evalForm(evalForm(g)) == evalForm(g).
Graph evalForm(const Graph &g);

} // namespace nn
