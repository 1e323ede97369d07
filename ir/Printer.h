//===- Printer.h - The IR text form ----------------------------*- C++ -*-===//
///
/// \file
/// Prints a Graph as MLIR-like text that parseGraph reads back exactly:
///   %3 = matmul %x, %fc1.weight : f32[N,128]        loc("m.nn":7:7-11)
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>

namespace nn {

struct PrintOptions {
  /// Print `loc(...)` after each node that has one.
  bool locations = true;
};

/// The text of `g`; parseGraph(printGraph(g)) gives back an equal graph.
std::string printGraph(const Graph &g, const PrintOptions &opts = {});

/// The text of one node's line, without indentation or newline.
std::string printNode(const Graph &g, NodeId id, const PrintOptions &opts = {});

/// `v` printed so that it parses back to the same double (shortest form).
std::string formatDouble(double v);

} // namespace nn
