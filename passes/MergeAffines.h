//===- MergeAffines.h - One channel affine where there were two -*- C++ -*-===//
///
/// \file
/// In evaluation form, batch norm is two channel affines in a row: its
/// running statistics' (x - rm) / sqrt(rv + eps), then its own weight and
/// bias. One affine does both, and one affine can then fold into the
/// convolution before it (passes/FuseConv.cpp).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// `g` (a typed graph) with each channel_affine(channel_affine(x, s, t), g,
/// b), whose inner affine has no other use, as one channel_affine(x, s * g,
/// t * g + b): the new scale and shift are [C] vector ops appended ahead
/// of it (t or b absent: 0); the inner affine is left for dce. A graph with
/// no such pair comes back unchanged.
Graph mergeChannelAffines(const Graph &g);

} // namespace nn
