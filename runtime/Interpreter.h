//===- Interpreter.h - The reference interpreter ---------------*- C++ -*-===//
///
/// \file
/// Naive loops over double that evaluate a Graph: the numerical oracle every
/// backend, fused or not, is compared with. No fusion, no cleverness.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nn {

/// A double-precision tensor: the interpreter's values. Row-major; a scalar
/// has an empty shape and one element. Class labels (I32) are doubles
/// holding integers.
struct Value {
  std::vector<int64_t> shape;
  std::vector<double> data;

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  /// A scalar holding `v`.
  static Value scalar(double v) { return {{}, {v}}; }
};

/// Values by leaf or output name.
using ValueMap = std::map<std::string, Value>;

/// The float tensor `t` as doubles.
Value toValue(const Tensor &t);
/// `v` rounded to float.
Tensor toTensor(const Value &v);

/// Evaluates a graph with naive loops over double.
///
/// Semantics, per op:
/// - elementwise ops: ir/ElementwiseMath.h, with numpy broadcasting of
///   trailing dimensions (scalars broadcast to anything);
/// - MatMul: [m,k]@[k,n] -> [m,n], [m,k]@[k] -> [m] (and, as numpy does,
///   [k]@[k,n] -> [n], [k]@[k] -> scalar);
/// - Transpose: 2-D (rank 0 and 1 are unchanged);
/// - Expand(a, like): a broadcast to like's shape. With `axis` = k >= 0 and
///   rank(a) = rank(like) - 1, `a` is the result of a reduction over axis k
///   (Sum, Mean) and dimension k is re-inserted; otherwise numpy broadcasting
///   of trailing dimensions. When axis is -1 and trailing broadcasting does
///   not fit but exactly one dimension k of `like` can be removed to give
///   a's shape, that k is used (so expand(sum(x, axis=1), x) works unmarked);
/// - Sum, Mean: over `axis` (-1 = every element -> scalar; k removes dim k);
///   Count: the number of elements Sum would add, in Sum's shape (numel as
///   a scalar for axis -1; dim k in every element for axis k, or a scalar
///   when the node's type is a scalar);
/// - Softmax: over the last axis, stable (the row max is subtracted);
/// - OneHot: class ids [N] -> [N, classes];
/// - losses, all scalars:
///   Bce(p, y) = mean over elements of -(y log p + (1-y) log(1-p)), p not
///     clamped, 0 * log 0 taken as 0 (so p = y in {0, 1} gives 0; p = 0 with
///     y = 1 gives +inf: an honest infinite loss);
///   BceLogits(z, y) = mean of max(z,0) - z*y + log1p(exp(-|z|)) (stable);
///   CrossEntropy(p, y) = mean over rows of -log p[row, y[row]];
///   SoftmaxCrossEntropy(z, y) = mean over rows of logsumexp(z_row) -
///     z[row, y[row]], stable;
///   Mse(p, y) = mean over elements of (p - y)^2.
///   Bce, BceLogits and Mse take operands with equal element counts ([N,1]
///   against [N] is the same elements). CrossEntropy and SoftmaxCrossEntropy
///   take rows of C classes ([N,C]) and either class ids (one per row) or
///   dense targets of the same shape (then -sum_c y_c log p_c per row).
class Interpreter {
public:
  /// `g` should have known types (after passes/inferShapes); each computed
  /// shape is checked against a known type (a mismatch is an internal
  /// error). Leaves must have known types.
  explicit Interpreter(const Graph &g);

  /// Evaluates every node and returns the values by node id. `leaves` binds
  /// Input, Label, Param and State leaves by name (Const nodes carry their
  /// values). The batch size N is taken from the bound Input and Label
  /// leaves whose type has the batch dimension (all must agree). Throws
  /// UserError naming the leaf when a leaf is missing or its shape does not
  /// match its type, and naming the label when a class id is out of range.
  std::vector<Value> run(const ValueMap &leaves) const;

  /// Evaluates only the nodes that `roots` depend on (other entries of the
  /// result stay empty); leaves they do not use need not be bound (e.g. the
  /// label when predicting).
  std::vector<Value> run(const ValueMap &leaves,
                         const std::vector<NodeId> &roots) const;

  /// The named outputs only, evaluating just what they need. Throws
  /// UserError for a name that is not an output.
  ValueMap outputs(const ValueMap &leaves,
                   const std::vector<std::string> &names) const;

  /// The graph's named outputs and the new values of its update targets.
  struct Result {
    ValueMap outputs;
    ValueMap updates; ///< by the target leaf's name
  };
  /// run(), then the outputs and updates by name.
  Result step(const ValueMap &leaves) const;

  const Graph &graph() const { return g; }

private:
  std::vector<Value> evaluate(const ValueMap &leaves,
                              const std::vector<bool> &needed) const;

  Graph g; // a copy: the interpreter may outlive the caller's graph
};

} // namespace nn
