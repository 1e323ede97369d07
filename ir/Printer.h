//===- Printer.h - The IR text form ----------------------------*- C++ -*-===//
///
/// \file
/// Prints a Graph as MLIR-like text that parseGraph reads back exactly:
///   %3 = matmul %x, %fc1.weight : f32[N,128]        loc("m.nn":7:7-11)
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attributes.h" // attributeTexts
#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

struct PrintOptions {
  /// Print `loc(...)` after each node that has one.
  bool locations = true;
};

/// The text of `g`; parseGraph(printGraph(g)) gives back an equal graph.
std::string printGraph(const Graph &g, const PrintOptions &opts = {});

/// The text of one node's line, without indentation or newline. Names every
/// value of the graph to do so: to print many nodes, use a NodePrinter.
std::string printNode(const Graph &g, NodeId id, const PrintOptions &opts = {});

/// Prints nodes of one graph as printNode does, with the graph's value names
/// computed once (printNode on each node of a 200-layer model cost as much
/// as the rest of its compilation). The graph must outlive it, unchanged.
class NodePrinter {
public:
  explicit NodePrinter(const Graph &g, const PrintOptions &opts = {});
  /// printNode(g, id, opts).
  std::string operator()(NodeId id) const;
  /// "fc1.matmul": the name the line gives node `id` (after its `%`).
  const std::string &label(NodeId id) const { return labels[id]; }

private:
  const Graph &g;
  PrintOptions opts;
  std::vector<std::string> labels;
};

/// `v` printed so that it parses back to the same double (shortest form).
std::string formatDouble(double v);

} // namespace nn
