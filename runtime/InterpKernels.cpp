//===- InterpKernels.cpp - Naive kernels: elementwise, linalg, reduce -----===//
///
/// \file
/// The elementwise family is one generic loop over emitElementwise (no case
/// per op), the updates one loop over emitUpdate; broadcasting follows the
/// shape rule of passes/InferShapes (broadcastDims), so the interpreter
/// broadcasts exactly as shape inference types.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/ElementwiseMath.h"
#include "ir/Format.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"
#include "passes/InferShapes.h"

#include <span>

namespace nn::interp {

int64_t numelOf(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

void userError(const Node &n, const std::string &msg) {
  std::string where = n.loc.valid() ? n.loc.str() + ": " : std::string();
  throw UserError(where + "error: " + msg);
}

std::optional<Shape> broadcastStrides(const Shape &a, const Shape &out) {
  if (a.size() > out.size())
    return std::nullopt;
  Shape strides(out.size(), 0);
  int64_t stride = 1;
  size_t off = out.size() - a.size();
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] == out[off + i])
      strides[off + i] = a[i] == 1 ? 0 : stride;
    else if (a[i] != 1)
      return std::nullopt;
    stride *= a[i];
  }
  return strides;
}

int64_t offsetOf(int64_t flat, const Shape &out, const Shape &strides) {
  int64_t off = 0;
  for (size_t d = out.size(); d-- > 0;) {
    off += (flat % out[d]) * strides[d];
    flat /= out[d];
  }
  return off;
}

namespace {

/// `a` broadcast to `out` along `strides`.
Value broadcastWith(const Value &a, const Shape &out, const Shape &strides) {
  Value r{out, std::vector<double>(static_cast<size_t>(numelOf(out)))};
  for (int64_t i = 0; i < r.numel(); ++i)
    r.data[i] = a.data[offsetOf(i, out, strides)];
  return r;
}

/// `f(in)` per element of the operands broadcast to their common shape,
/// `in[k]` being operand k's element.
template <class F>
Value mapBroadcast(const char *what, const Args &args, F f) {
  Shape out;
  for (const Value *a : args) {
    std::optional<Shape> s = broadcastDims(out, a->shape);
    NN_ASSERT(s, std::string(what) + ": operands do not broadcast: " +
                     shapeStr(out) + " and " + shapeStr(a->shape));
    out = *s;
  }
  std::vector<Shape> strides;
  bool same = true; // every operand has the result's shape: no offsets
  for (const Value *a : args) {
    strides.push_back(*broadcastStrides(a->shape, out));
    same = same && a->shape == out;
  }
  Value r{out, std::vector<double>(static_cast<size_t>(numelOf(out)))};
  std::vector<double> in(args.size());
  for (int64_t i = 0; i < r.numel(); ++i) {
    for (size_t k = 0; k < args.size(); ++k)
      in[k] = args[k]->data[same ? i : offsetOf(i, out, strides[k])];
    r.data[i] = f(std::span<const double>(in));
  }
  return r;
}

/// The scalar operand of a fused op.
double scalarOf(const Value &v) {
  NN_ASSERT(v.numel() == 1, "expected a scalar, got " + shapeStr(v.shape));
  return v.data[0];
}

/// `s` with dimension `k` removed.
Shape withoutDim(const Shape &s, size_t k) {
  Shape r = s;
  r.erase(r.begin() + static_cast<std::ptrdiff_t>(k));
  return r;
}

/// `a` broadcast to `like` with dimension k re-inserted (a is `like`
/// reduced over axis k).
Value expandAxis(const Value &a, const Shape &like, size_t k) {
  Shape aligned = a.shape;
  aligned.insert(aligned.begin() + static_cast<std::ptrdiff_t>(k), 1);
  std::optional<Shape> st = broadcastStrides(aligned, like);
  NN_ASSERT(st, "expand: " + shapeStr(a.shape) + " is not " + shapeStr(like) +
                    " reduced over axis " + std::to_string(k));
  return broadcastWith(a, like, *st);
}

Value expand(const Value &a, const Shape &like, int64_t axis) {
  if (axis >= 0 && a.shape.size() + 1 == like.size() &&
      static_cast<size_t>(axis) < like.size())
    return expandAxis(a, like, static_cast<size_t>(axis));
  if (std::optional<Shape> st = broadcastStrides(a.shape, like))
    return broadcastWith(a, like, *st);
  // Unmarked expand of a reduction: the one dim whose removal gives a's shape.
  std::optional<size_t> found;
  if (a.shape.size() + 1 == like.size())
    for (size_t k = 0; k < like.size(); ++k)
      if (withoutDim(like, k) == a.shape) {
        NN_ASSERT(!found || withoutDim(like, *found) == a.shape,
                  "ambiguous expand");
        if (!found)
          found = k;
      }
  NN_ASSERT(found, "expand: cannot broadcast " + shapeStr(a.shape) + " to " +
                       shapeStr(like));
  return expandAxis(a, like, *found);
}

/// The number of elements Sum would add: a scalar for axis -1; for axis k,
/// Sum's shape filled with dim k (or a scalar when `scalar`, the node's type
/// says so).
Value count(const Value &a, int64_t axis, bool scalar) {
  if (axis == -1)
    return Value::scalar(static_cast<double>(a.numel()));
  NN_ASSERT(axis >= 0 && static_cast<size_t>(axis) < a.shape.size(),
            "count axis " + std::to_string(axis) + " out of range for " +
                shapeStr(a.shape));
  double len = static_cast<double>(a.shape[axis]);
  if (scalar)
    return Value::scalar(len);
  Shape out = withoutDim(a.shape, static_cast<size_t>(axis));
  return {out, std::vector<double>(static_cast<size_t>(numelOf(out)), len)};
}

} // namespace

/// da * act'(a) per element (fused dense gradients; same shapes); `a` is
/// z for an activation whose derivative is written in its input, `param`
/// leaky_relu's slope.
Value maskedGrad(const Value &da, const Value &a, Activation act,
                 double param) {
  NN_ASSERT(da.shape == a.shape, "masked gradient: operands differ: " +
                                     shapeStr(da.shape) + " and " +
                                     shapeStr(a.shape));
  DoubleEmitter e;
  Value r = da;
  for (int64_t i = 0; i < r.numel(); ++i)
    r.data[i] = e.mul(da.data[i], emitActivationGrad(e, act, a.data[i], param));
  return r;
}

Value elementwise(ElementwiseOp op, const Args &args, double param) {
  DoubleEmitter e;
  return mapBroadcast(mnemonic(opOf(op)), args,
                      [&](std::span<const double> in) {
                        return emitElementwise(e, op, in, param);
                      });
}

Value fusedElementwise(const std::vector<ExprStep> &body, const Args &args) {
  DoubleEmitter e;
  return mapBroadcast("fused.elementwise", args,
                      [&](std::span<const double> in) {
                        return emitFusedBody(e, body, in);
                      });
}

Value update(UpdateOp op, const Args &args) {
  NN_ASSERT(static_cast<int>(args.size()) == opInfo(opOf(op)).arity,
            std::string("wrong operand count for ") + mnemonic(opOf(op)));
  DoubleEmitter e;
  Value r = *args[0];
  // Tensors then scalars (ir/FusedMath.h): an operand of another element
  // count than operand 0 is a scalar hyperparameter.
  std::vector<double> in(args.size());
  std::vector<bool> tensor(args.size());
  for (size_t a = 0; a < args.size(); ++a) {
    tensor[a] = args[a]->numel() == r.numel();
    if (!tensor[a])
      in[a] = scalarOf(*args[a]);
  }
  for (int64_t i = 0; i < r.numel(); ++i) {
    for (size_t a = 0; a < args.size(); ++a)
      if (tensor[a])
        in[a] = args[a]->data[i];
    r.data[i] = emitUpdate(e, op, std::span<const double>(in));
  }
  return r;
}

Value matmul(const Value &a, const Value &b) {
  NN_ASSERT(a.shape.size() >= 1 && a.shape.size() <= 2 &&
                b.shape.size() >= 1 && b.shape.size() <= 2,
            "matmul operands must be 1-D or 2-D: " + shapeStr(a.shape) +
                " @ " + shapeStr(b.shape));
  bool aVec = a.shape.size() == 1, bVec = b.shape.size() == 1;
  int64_t m = aVec ? 1 : a.shape[0], k = a.shape.back();
  int64_t kb = b.shape[0], n = bVec ? 1 : b.shape[1];
  NN_ASSERT(k == kb, "matmul shapes do not match: " + shapeStr(a.shape) +
                         " @ " + shapeStr(b.shape));
  Shape out;
  if (!aVec)
    out.push_back(m);
  if (!bVec)
    out.push_back(n);
  Value r{out, std::vector<double>(static_cast<size_t>(m * n), 0.0)};
  // i-p-j order walks both operands row by row; each r[i][j] still sums
  // its terms in the order p = 0, 1, ..., k-1.
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      double av = a.data[i * k + p];
      const double *brow = &b.data[p * n];
      double *rrow = &r.data[i * n];
      for (int64_t j = 0; j < n; ++j)
        rrow[j] += av * brow[j];
    }
  return r;
}

Value transpose(const Value &a) {
  if (a.shape.size() < 2)
    return a;
  NN_ASSERT(a.shape.size() == 2, "transpose of " + shapeStr(a.shape));
  int64_t m = a.shape[0], n = a.shape[1];
  Value r{{n, m}, std::vector<double>(a.data.size())};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      r.data[j * m + i] = a.data[i * n + j];
  return r;
}

Value reduce(const Value &a, int64_t axis, bool mean) {
  if (axis == -1) {
    double s = 0;
    for (double x : a.data)
      s += x;
    return Value::scalar(mean ? s / static_cast<double>(a.numel()) : s);
  }
  NN_ASSERT(axis >= 0 && static_cast<size_t>(axis) < a.shape.size(),
            "reduction axis " + std::to_string(axis) + " out of range for " +
                shapeStr(a.shape));
  size_t k = static_cast<size_t>(axis);
  int64_t len = a.shape[k];
  int64_t inner = 1;
  for (size_t d = k + 1; d < a.shape.size(); ++d)
    inner *= a.shape[d];
  int64_t outer = len * inner == 0 ? 0 : a.numel() / (len * inner);
  Value r{withoutDim(a.shape, k),
          std::vector<double>(static_cast<size_t>(outer * inner), 0.0)};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (int64_t j = 0; j < len; ++j)
        s += a.data[(o * len + j) * inner + i];
      r.data[o * inner + i] = mean ? s / static_cast<double>(len) : s;
    }
  return r;
}

Value linalg(LinalgOp op, const Node &n, const Args &in) {
  switch (op) {
  case LinalgOp::MatMul:
    return matmul(*in[0], *in[1]);
  case LinalgOp::Transpose:
    return transpose(*in[0]);
  case LinalgOp::Expand:
    return expand(*in[0], in[1]->shape, n.axis);
  case LinalgOp::Reshape: {
    Value r = *in[0];
    r.shape = n.shape;
    if (!r.shape.empty() && r.shape[0] == kBatch)
      r.shape[0] = in[0]->shape.empty() ? 1 : in[0]->shape[0];
    return r;
  }
  }
  NN_UNREACHABLE("bad LinalgOp");
}

Value reduction(ReduceOp op, const Node &n, const Args &in) {
  switch (op) {
  case ReduceOp::Sum:
    return reduce(*in[0], n.axis, /*mean=*/false);
  case ReduceOp::Mean:
    return reduce(*in[0], n.axis, /*mean=*/true);
  case ReduceOp::Count:
    return count(*in[0], n.axis, n.type.known && n.type.isScalar());
  }
  NN_UNREACHABLE("bad ReduceOp");
}

Value dense(DenseOp op, const Node &n, const Args &in) {
  switch (op) {
  case DenseOp::Dense: {
    Value prod = matmul(*in[0], *in[1]);
    Value sum = elementwise(ElementwiseOp::Add, {&prod, in[2]});
    NN_ASSERT(sum.shape == prod.shape, "fused.dense: bias widens the product");
    DoubleEmitter e;
    for (double &x : sum.data)
      x = emitActivation(e, n.act, x, n.param);
    return sum;
  }
  case DenseOp::FusedMatMul:
    return matmul(n.transA ? transpose(*in[0]) : *in[0],
                  n.transB ? transpose(*in[1]) : *in[1]);
  case DenseOp::DenseGradInput:
    return matmul(maskedGrad(*in[0], *in[1], n.act, n.param),
                  transpose(*in[2]));
  case DenseOp::DenseGradWeight:
    return matmul(transpose(*in[0]),
                  maskedGrad(*in[1], *in[2], n.act, n.param));
  case DenseOp::DenseGradBias:
    return reduce(maskedGrad(*in[0], *in[1], n.act, n.param), 0,
                  /*mean=*/false);
  }
  NN_UNREACHABLE("bad DenseOp");
}

} // namespace nn::interp
