//===- SeedDropout.cpp - The run's seed into every dropout ----------------===//
///
/// \file
/// Algorithm: a copy of the graph with the seed field of each dropout set;
/// nothing else changes.
///
//===----------------------------------------------------------------------===//

#include "passes/SeedDropout.h"

namespace nn {

Graph seedDropout(const Graph &g, uint64_t seed) {
  Graph out = g;
  for (Node &n : out.nodes)
    if (n.op == OpKind::Dropout)
      n.seed = seed;
  return out;
}

} // namespace nn
