//===- InterpKernels.h - The interpreter's naive kernels --------*- C++ -*-===//
///
/// \file
/// The loops the reference interpreter (runtime/Interpreter.h, which states
/// each op's semantics) runs for one node: naive loops over double, one
/// function per op family or op. The scalar math comes from
/// ir/ElementwiseMath.h and ir/FusedMath.h, shared with the code generators.
/// Internal to runtime/: Interpreter.cpp and the scalar view use them.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Interpreter.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nn::interp {

using Shape = std::vector<int64_t>;
/// A node's operand values, in operand order.
using Args = std::vector<const Value *>;

int64_t numelOf(const Shape &s);

/// A UserError "file:line:col: error: msg" at `n` (just "error: msg" when
/// `n` has no location).
[[noreturn]] void userError(const Node &n, const std::string &msg);

// --- broadcasting (InterpKernels.cpp) ------------------------------------

/// Per-dimension strides of `a` when broadcast (numpy, trailing dimensions
/// aligned) to `out`: 0 along broadcast dimensions. nullopt when it does not
/// fit.
std::optional<Shape> broadcastStrides(const Shape &a, const Shape &out);
/// The flat offset into an operand with `strides` of output element `flat`.
int64_t offsetOf(int64_t flat, const Shape &out, const Shape &strides);

// --- per family (InterpKernels.cpp) --------------------------------------

/// An elementwise op on 1 or 2 operands, broadcast to their common shape;
/// `param` is the op's number (Node::param: leaky_relu's slope).
Value elementwise(ElementwiseOp op, const Args &args, double param = 0);
/// fused.elementwise: `body` per element, operands broadcast to their
/// common shape.
Value fusedElementwise(const std::vector<ExprStep> &body, const Args &args);
/// A fused update (ir/FusedMath.h, emitUpdate) per element of operand 0.
Value update(UpdateOp op, const Args &args);
Value linalg(LinalgOp op, const Node &n, const Args &args);
/// da * act'(a) per element (the fused gradients; same shapes); `a` is z
/// for an activation whose derivative is written in its input, `param`
/// leaky_relu's slope.
Value maskedGrad(const Value &da, const Value &a, Activation act,
                 double param);
/// conv2d, pooling, the channel ops (runtime/InterpSpatial.cpp).
Value spatial(SpatialOp op, const Node &n, const Args &args);
Value reduction(ReduceOp op, const Node &n, const Args &args);
Value dense(DenseOp op, const Node &n, const Args &args);

Value matmul(const Value &a, const Value &b);
Value transpose(const Value &a);
/// Sum (or Mean when `mean`) over `axis` (-1 = all).
Value reduce(const Value &a, int64_t axis, bool mean);

// --- random ops (InterpRandom.cpp) ---------------------------------------

Value random(RandomOp op, const Node &n, const Args &args);
/// What dropout node `n` multiplies element `i` by at step `step`, its
/// tensor's row 0 row `firstRow` of the global batch: its scale
/// 1 / (1 - p) where the element is kept, else 0 (ir/Philox.h).
double dropoutFactor(const Node &n, double step, double firstRow, int64_t i);

// --- rows, losses and their gradients (InterpLoss.cpp) -------------------

Value rows(RowsOp op, const Graph &g, const Node &n, const Args &args);
Value loss(LossOp op, const Graph &g, const Node &n, const Args &args);
Value lossGrad(LossGradOp op, const Graph &g, const Node &n,
               const Args &args);

/// The length of a row (the last dimension; 1 for a scalar).
int64_t rowLen(const Value &a);
/// max and s = sum exp(z - max) of row `r` of `z`.
std::pair<double, double> rowMaxAndSum(const Value &z, int64_t r);

// --- layer_norm's rows (InterpNormalize.cpp) -----------------------------

/// normalize(x): (x - mean) / sqrt(var + eps) over each row (last axis).
Value normalize(const Value &x, double eps);
/// normalize_grad(dy, x): its gradient given dy (ir/Ops.def).
Value normalizeGrad(const Value &dy, const Value &x, double eps);
/// The mean and sqrt(var + eps) of row `r` of `x` (its last axis), as
/// normalize computes them.
std::pair<double, double> normalizeMoments(const Value &x, int64_t r,
                                           double eps);

} // namespace nn::interp
