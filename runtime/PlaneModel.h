//===- PlaneModel.h - A small model's units over its input plane -*- C++ -*-===//
///
/// \file
/// What `nnc play` draws for a model whose input has two features: every
/// unit's value over a grid of the input plane (each hidden unit's
/// activation and the prediction), computed by the compiled forward
/// function of a backend, not re-implemented. The forward graph is cut down
/// to the prediction and the hidden layers, and those layers become outputs
/// of the graph the executor compiles, so one run over the grid's points
/// gives every map.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Executor.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// A layer of units: a hidden layer (a value a later matmul reads) or the
/// prediction, the last layer.
struct PlaneLayer {
  std::string name;   ///< the source's name ("hidden"), "pred" for the last
  std::string output; ///< the plane graph's output holding its values
  int64_t width = 0;  ///< units (values per sample)
  /// The Param leaf of the matmul that feeds the layer (its [in, out] or
  /// [in] weights), "" when it has none of that shape.
  std::string weight;
  /// The layer that matmul reads: -1 the input, else an index of `layers`.
  int64_t from = -1;
};

struct PlaneModel {
  /// The evaluation-form forward graph cut to what the outputs need: no
  /// labels, no loss; outputs "pred" and "unit.<layer index>".
  Graph graph;
  std::string input;  ///< the Input leaf's name
  int64_t inputWidth = 0;
  std::vector<PlaneLayer> layers; ///< hidden layers in graph order, then pred
};

/// The plane model of `forward` (a typed forward graph with output "pred",
/// in evaluation form). Throws UserError when there is no prediction or
/// not exactly one Input leaf.
PlaneModel planeModel(const Graph &forward);

/// A rectangle of the input plane.
struct PlaneBox {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
};

/// The bounding box of the rows of `x` ([n, 2]), widened by a tenth of its
/// size on each side (a unit square around a single point).
PlaneBox planeBox(const Tensor &x);

/// An n x n grid over a box: column c at xs[c] (x0 .. x1), row r at ys[r]
/// (y1 at the top .. y0); point r * n + c of `points` ([n * n, 2]) is
/// (xs[c], ys[r]).
struct PlaneGrid {
  PlaneBox box;
  int64_t n = 0;
  std::vector<float> xs, ys;
  Tensor points;
};

PlaneGrid makeGrid(const PlaneBox &box, int64_t n);

/// Every layer of `pm` over `points`, from the parameters in `state` (extra
/// entries, such as optimizer state, are ignored): one [rows, width] tensor
/// per layer, in the order of pm.layers. `exec` was made for pm.graph.
std::vector<Tensor> planeMaps(Executor &exec, const PlaneModel &pm,
                              const TensorMap &state, const Tensor &points);

} // namespace nn
