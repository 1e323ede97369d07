//===- Graphviz.h - Graphs as Graphviz DOT, rendered by dot ----*- C++ -*-===//
///
/// \file
/// The picture behind `nnc graph` and the report page: a Graph as DOT text
/// (each node labelled with its op, shape and .nn line; shapes on edges;
/// the fused kernels as clusters; optionally each node's value and
/// gradient after one step), and the `dot` program (Debian graphviz) that
/// turns it into SVG or PNG where it is installed.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"
#include "tools/Driver.h"
#include "tools/KernelMap.h"

#include <optional>
#include <string>
#include <vector>

namespace nn {

struct DotOptions {
  /// The .nn text, for the source line of each node; its path for labels.
  std::string sourceText;
  std::string sourcePath;
  /// Cluster the nodes by the fused kernel they ended in (the graph must be
  /// the one the map was made from).
  const KernelMap *kernels = nullptr;
  /// Values of the graph's nodes after one step, by node id (empty entries
  /// are left out), and the gradient of each named value (by the node's
  /// name, without the "d." prefix).
  const std::vector<Value> *values = nullptr;
  const ValueMap *gradients = nullptr;
};

/// `g` as a DOT digraph.
std::string graphToDot(const Graph &g, const DotOptions &opts);

/// `nnc graph`: the graph of `stage` ("forward", "grad" or "fused") as DOT;
/// with `values`, each node's value and gradient after one step on the
/// interpreter (firstStepLeaves in tools/teach/Explain.h).
std::string graphDot(const LoadedModel &m, const std::string &stage,
                     bool values);

/// Where `dot` is on PATH, if it is.
std::optional<std::string> findDot();

/// Runs `dot -T<format>` (svg, png) on `dotText` and returns its output.
/// Throws UserError when dot is missing (saying how to install it) or
/// fails (with its message).
std::string runDot(const std::string &dotText, const std::string &format);

/// "[0.12, -0.5, 3, ... 128 values]": the first few elements of `v`.
std::string valuePreview(const Value &v, size_t shown = 4);

} // namespace nn
