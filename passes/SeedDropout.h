//===- SeedDropout.h - The run's seed into every dropout -------*- C++ -*-===//
///
/// \file
/// A dropout's mask is keyed by the run's seed (ir/Philox.h). The frontend
/// lowers dropouts without it; the driver sets it from the recipe after
/// the command line's overrides, so `--seed` changes the masks as it
/// changes the initial weights and the shuffling.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>

namespace nn {

/// `g` with Node::seed = `seed` on every dropout.
Graph seedDropout(const Graph &g, uint64_t seed);

} // namespace nn
