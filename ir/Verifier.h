//===- Verifier.h - Structural checks of a Graph ---------------*- C++ -*-===//
///
/// \file
/// The invariants every pass must keep; the pipeline runs this after each
/// pass.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

struct VerifyOptions {
  /// Require every node's type to be known (after shape inference).
  bool requireTypes = true;
};

/// The problems found in `g`, one message each ("node 3 (matmul): ..."); empty
/// when `g` is well formed: operand counts match Ops.def, operands precede
/// their users, leaves have no operands, outputs and updates point at
/// existing nodes, update targets are Param or State leaves whose type equals
/// the value's, leaf names are unique per kind, types are known.
std::vector<std::string> verifyGraph(const Graph &g,
                                     const VerifyOptions &opts = {});

} // namespace nn
