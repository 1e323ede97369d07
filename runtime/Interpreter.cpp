//===- Interpreter.cpp - The reference interpreter ------------------------===//
///
/// \file
/// One complete switch over OpKind, each case a naive loop over doubles. The
/// scalar math of elementwise ops and loss terms comes from
/// ir/ElementwiseMath.h, shared with the code generators.
///
//===----------------------------------------------------------------------===//

#include "runtime/Interpreter.h"

#include "ir/ElementwiseMath.h"
#include "ir/Format.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace nn {

Value toValue(const Tensor &t) {
  Value v;
  v.shape = t.shape;
  v.data.assign(t.data.begin(), t.data.end());
  return v;
}

Tensor toTensor(const Value &v) {
  Tensor t;
  t.shape = v.shape;
  t.data.reserve(v.data.size());
  for (double d : v.data)
    t.data.push_back(static_cast<float>(d));
  return t;
}

namespace {

using Shape = std::vector<int64_t>;

int64_t numelOf(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// The dims of `t` with the batch dimension set to `batch`.
Shape concreteDims(const TensorType &t, int64_t batch) {
  Shape s = t.dims;
  for (int64_t &d : s)
    if (d == kBatch)
      d = batch;
  return s;
}

/// What kind of leaf a node is, for messages: "input 'x'".
std::string leafDesc(const Node &n) {
  return std::string(mnemonic(n.op)) + " '" + n.name + "'";
}

[[noreturn]] void userError(const Node &n, const std::string &msg) {
  std::string where = n.loc.valid() ? n.loc.str() + ": " : std::string();
  throw UserError(where + "error: " + msg);
}

/// A class id as text: "12", or "1.5" when it is not an integer.
std::string numStr(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Checks that `v` is a class id in [0, classes) and returns it. `label` is
/// the node holding the ids (a Label leaf in every lowered model).
int64_t classId(double v, int64_t classes, const Node &label, int64_t row) {
  std::string what = label.op == OpKind::Label ? " (label '" + label.name +
                                                     "', row " +
                                                     std::to_string(row) + ")"
                                               : " (row " +
                                                     std::to_string(row) + ")";
  if (!std::isfinite(v) || v != std::floor(v))
    userError(label, "label " + numStr(v) + " is not a class id" + what);
  if (v < 0 || v >= static_cast<double>(classes))
    userError(label, "label " + numStr(v) + " out of range for class(" +
                         std::to_string(classes) + ")" + what);
  return static_cast<int64_t>(v);
}

/// Per-dimension strides of `a` when broadcast (numpy, trailing dimensions
/// aligned) to `out`: 0 along broadcast dimensions. nullopt when it does not
/// fit.
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

/// The numpy broadcast of two shapes, or nullopt.
std::optional<Shape> broadcastShape(const Shape &a, const Shape &b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// The flat offset into an operand with `strides` of output element `flat`.
int64_t offsetOf(int64_t flat, const Shape &out, const Shape &strides) {
  int64_t off = 0;
  for (size_t d = out.size(); d-- > 0;) {
    off += (flat % out[d]) * strides[d];
    flat /= out[d];
  }
  return off;
}

/// `a` broadcast to `out` along `strides`.
Value broadcastWith(const Value &a, const Shape &out, const Shape &strides) {
  Value r{out, std::vector<double>(static_cast<size_t>(numelOf(out)))};
  for (int64_t i = 0; i < r.numel(); ++i)
    r.data[i] = a.data[offsetOf(i, out, strides)];
  return r;
}

Value elementwise(OpKind op, const std::vector<const Value *> &args) {
  DoubleEmitter e;
  if (args.size() == 1) {
    Value r = *args[0];
    for (double &x : r.data) {
      double in[1] = {x};
      x = emitElementwise(e, op, std::span<const double>(in));
    }
    return r;
  }
  const Value &a = *args[0], &b = *args[1];
  std::optional<Shape> out = broadcastShape(a.shape, b.shape);
  NN_ASSERT(out, std::string(mnemonic(op)) + ": shapes do not broadcast: " +
                     shapeStr(a.shape) + " and " + shapeStr(b.shape));
  Shape sa = *broadcastStrides(a.shape, *out);
  Shape sb = *broadcastStrides(b.shape, *out);
  Value r{*out, std::vector<double>(static_cast<size_t>(numelOf(*out)))};
  for (int64_t i = 0; i < r.numel(); ++i) {
    double in[2] = {a.data[offsetOf(i, *out, sa)],
                    b.data[offsetOf(i, *out, sb)]};
    r.data[i] = emitElementwise(e, op, std::span<const double>(in));
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

/// `s` with dimension `k` removed.
Shape withoutDim(const Shape &s, size_t k) {
  Shape r = s;
  r.erase(r.begin() + static_cast<std::ptrdiff_t>(k));
  return r;
}

Value expand(const Value &a, const Shape &like, int64_t axis) {
  auto viaAxis = [&](size_t k) {
    Shape aligned = a.shape;
    aligned.insert(aligned.begin() + static_cast<std::ptrdiff_t>(k), 1);
    std::optional<Shape> st = broadcastStrides(aligned, like);
    NN_ASSERT(st, "expand: " + shapeStr(a.shape) + " is not " +
                      shapeStr(like) + " reduced over axis " +
                      std::to_string(k));
    return broadcastWith(a, like, *st);
  };
  if (axis >= 0 && a.shape.size() + 1 == like.size() &&
      static_cast<size_t>(axis) < like.size())
    return viaAxis(static_cast<size_t>(axis));
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
  return viaAxis(*found);
}

/// Sum (or Mean when `mean`) over `axis` (-1 = all).
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

/// The length of a row (the last dimension; 1 for a scalar).
int64_t rowLen(const Value &a) { return a.shape.empty() ? 1 : a.shape.back(); }

/// max and s = sum exp(z - max) of row `r` of `z`.
std::pair<double, double> rowMaxAndSum(const Value &z, int64_t r) {
  DoubleEmitter e;
  int64_t c = rowLen(z);
  const double *row = z.data.data() + r * c;
  double m = row[0];
  for (int64_t j = 1; j < c; ++j)
    m = emitMax(e, row[j], m);
  double s = 0;
  for (int64_t j = 0; j < c; ++j)
    s += emitExpShifted(e, row[j], m);
  return {m, s};
}

Value softmax(const Value &z) {
  DoubleEmitter e;
  Value r = z;
  int64_t c = rowLen(z);
  for (int64_t row = 0; c > 0 && row < z.numel() / c; ++row) {
    auto [m, s] = rowMaxAndSum(z, row);
    for (int64_t j = 0; j < c; ++j)
      r.data[row * c + j] = emitExpShifted(e, z.data[row * c + j], m) / s;
  }
  return r;
}

Value oneHot(const Value &ids, int64_t classes, const Node &label) {
  Shape out = ids.shape;
  out.push_back(classes);
  Value r{out, std::vector<double>(static_cast<size_t>(numelOf(out)), 0.0)};
  for (int64_t i = 0; i < ids.numel(); ++i)
    r.data[i * classes + classId(ids.data[i], classes, label, i)] = 1.0;
  return r;
}

/// The mean over `n` items of `total`.
double meanOf(double total, int64_t n) {
  return total / static_cast<double>(n);
}

/// Bce, BceLogits, Mse: the mean over elements of a per-element term.
template <class Term>
Value elementLoss(const Value &p, const Value &y, OpKind op, Term term) {
  NN_ASSERT(p.numel() == y.numel(),
            std::string(mnemonic(op)) + ": operands differ in size: " +
                shapeStr(p.shape) + " and " + shapeStr(y.shape));
  DoubleEmitter e;
  double total = 0;
  for (int64_t i = 0; i < p.numel(); ++i)
    total += term(e, p.data[i], y.data[i]);
  return Value::scalar(meanOf(total, p.numel()));
}

/// CrossEntropy (`logits` false, on probabilities) and SoftmaxCrossEntropy
/// (`logits` true): the mean over rows of -log of the target's probability.
Value classLoss(const Value &p, const Value &y, bool logits,
                const Node &label) {
  DoubleEmitter e;
  int64_t c = rowLen(p);
  int64_t rows = c == 0 ? 0 : p.numel() / c;
  bool dense = y.numel() == p.numel() && y.shape == p.shape;
  NN_ASSERT(dense || y.numel() == rows,
            "class loss: targets " + shapeStr(y.shape) + " do not fit " +
                shapeStr(p.shape));
  int64_t classes = label.classes > 0 ? label.classes : c;
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const double *row = p.data.data() + r * c;
    double lse = 0;
    if (logits) {
      auto [m, s] = rowMaxAndSum(p, r);
      lse = emitLogSumExp(e, m, s);
    }
    // -log q_j: q = p (probabilities) or softmax(z) (logits).
    auto negLogQ = [&](int64_t j) {
      return logits ? lse - row[j] : -e.log(row[j]);
    };
    if (!dense) {
      int64_t j = classId(y.data[r], classes, label, r);
      NN_ASSERT(j < c, "class id beyond the row length");
      total += negLogQ(j);
      continue;
    }
    for (int64_t j = 0; j < c; ++j) {
      double t = y.data[r * c + j];
      total += logits ? t * negLogQ(j) : emitNegXLogY(e, t, row[j]);
    }
  }
  return Value::scalar(meanOf(total, rows));
}

/// da * act'(a) per element (fused dense gradients; same shapes).
Value maskedGrad(const Value &da, const Value &a, Activation act) {
  NN_ASSERT(da.shape == a.shape, "masked gradient: operands differ: " +
                                     shapeStr(da.shape) + " and " +
                                     shapeStr(a.shape));
  DoubleEmitter e;
  Value r = da;
  for (int64_t i = 0; i < r.numel(); ++i)
    r.data[i] = emitMaskedGrad(e, act, da.data[i], a.data[i]);
  return r;
}

/// fused.elementwise: `body` per element, operands broadcast to `out`.
Value fusedElementwise(const std::vector<ExprStep> &body,
                       const std::vector<const Value *> &args) {
  Shape out;
  for (const Value *a : args) {
    std::optional<Shape> s = broadcastShape(out, a->shape);
    NN_ASSERT(s, "fused.elementwise: operands do not broadcast");
    out = *s;
  }
  std::vector<Shape> strides;
  for (const Value *a : args)
    strides.push_back(*broadcastStrides(a->shape, out));
  DoubleEmitter e;
  Value r{out, std::vector<double>(static_cast<size_t>(numelOf(out)))};
  std::vector<double> in(args.size());
  for (int64_t i = 0; i < r.numel(); ++i) {
    for (size_t k = 0; k < args.size(); ++k)
      in[k] = args[k]->data[offsetOf(i, out, strides[k])];
    r.data[i] = emitFusedBody(e, body, std::span<const double>(in));
  }
  return r;
}

/// The scalar operand of a fused op.
double scalarOf(const Value &v) {
  NN_ASSERT(v.numel() == 1, "expected a scalar, got " + shapeStr(v.shape));
  return v.data[0];
}

/// Evaluates fused node `n` (see Ops.def) on operand values `in`.
Value evalFused(const Graph &g, const Node &n,
                const std::vector<const Value *> &in) {
  DoubleEmitter e;
  switch (n.op) {
  case OpKind::Dense: {
    Value prod = matmul(*in[0], *in[1]);
    Value sum = elementwise(OpKind::Add, {&prod, in[2]});
    NN_ASSERT(sum.shape == prod.shape, "fused.dense: bias widens the product");
    for (double &x : sum.data)
      x = emitActivation(e, n.act, x);
    return sum;
  }
  case OpKind::FusedMatMul:
    return matmul(n.transA ? transpose(*in[0]) : *in[0],
                  n.transB ? transpose(*in[1]) : *in[1]);
  case OpKind::DenseGradInput:
    return matmul(maskedGrad(*in[0], *in[1], n.act), transpose(*in[2]));
  case OpKind::DenseGradWeight:
    return matmul(transpose(*in[0]), maskedGrad(*in[1], *in[2], n.act));
  case OpKind::DenseGradBias:
    return reduce(maskedGrad(*in[0], *in[1], n.act), 0, /*mean=*/false);
  case OpKind::SoftmaxXentGrad: {
    const Value &z = *in[0];
    int64_t c = rowLen(z), rows = c == 0 ? 0 : z.numel() / c;
    Value hot = oneHot(*in[1], c, g[n.inputs[1]]);
    Value r = softmax(z);
    double scale = scalarOf(*in[2]) / static_cast<double>(rows);
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = (r.data[i] - hot.data[i]) * scale;
    return r;
  }
  case OpKind::SigmoidBceGrad: {
    const Value &z = *in[0], &y = *in[1];
    NN_ASSERT(z.numel() == y.numel(), "fused.sigmoid_bce_grad: sizes differ");
    double scale = scalarOf(*in[2]) / static_cast<double>(z.numel());
    Value r = z;
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = e.mul(e.sub(emitSigmoid(e, z.data[i]), y.data[i]), scale);
    return r;
  }
  case OpKind::SgdMomentum: {
    double mu = scalarOf(*in[2]);
    Value r = *in[0];
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = e.add(e.mul(mu, in[0]->data[i]), in[1]->data[i]);
    return r;
  }
  case OpKind::Sgd: {
    double lr = scalarOf(*in[2]);
    Value r = *in[0];
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = e.sub(in[0]->data[i], e.mul(lr, in[1]->data[i]));
    return r;
  }
  case OpKind::Elementwise:
    return fusedElementwise(n.body, in);
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Tanh:
  case OpKind::Step:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::MatMul:
  case OpKind::Transpose:
  case OpKind::Expand:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Count:
  case OpKind::Softmax:
  case OpKind::OneHot:
  case OpKind::Bce:
  case OpKind::BceLogits:
  case OpKind::CrossEntropy:
  case OpKind::SoftmaxCrossEntropy:
  case OpKind::Mse:
    break;
  }
  NN_UNREACHABLE(std::string("evalFused of a non-fused op: ") +
                 mnemonic(n.op));
}

} // namespace

Interpreter::Interpreter(const Graph &graph) : g(graph) {
  for (const Node &n : g.nodes)
    NN_ASSERT(!hasTrait(n.op, kLeaf) || n.op == OpKind::Const || n.type.known,
              "interpreter: leaf '" + n.name + "' has no known type");
}

std::vector<Value> Interpreter::run(const ValueMap &leaves) const {
  return evaluate(leaves, std::vector<bool>(g.nodes.size(), true));
}

std::vector<Value> Interpreter::run(const ValueMap &leaves,
                                    const std::vector<NodeId> &roots) const {
  std::vector<bool> needed(g.nodes.size(), false);
  for (NodeId r : roots) {
    NN_ASSERT(r >= 0 && r < g.size(), "root out of range");
    needed[r] = true;
  }
  for (NodeId id = g.size(); id-- > 0;)
    if (needed[id])
      for (NodeId in : g[id].inputs)
        needed[in] = true;
  return evaluate(leaves, needed);
}

ValueMap Interpreter::outputs(const ValueMap &leaves,
                              const std::vector<std::string> &names) const {
  std::vector<NodeId> roots;
  for (const std::string &name : names) {
    std::optional<NodeId> id = g.output(name);
    if (!id)
      throw UserError("error: the graph has no output '" + name + "'");
    roots.push_back(*id);
  }
  std::vector<Value> vals = run(leaves, roots);
  ValueMap r;
  for (size_t i = 0; i < names.size(); ++i)
    r[names[i]] = vals[roots[i]];
  return r;
}

std::vector<Value> Interpreter::evaluate(const ValueMap &leaves,
                                         const std::vector<bool> &needed) const {
  // The batch size, from the bound inputs and labels.
  int64_t batch = -1;
  const Node *batchFrom = nullptr;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (!needed[id] || (n.op != OpKind::Input && n.op != OpKind::Label))
      continue;
    auto it = leaves.find(n.name);
    if (it == leaves.end())
      userError(n, "no value given for " + leafDesc(n));
    if (!n.type.hasBatch() || it->second.shape.empty())
      continue;
    int64_t rows = it->second.shape[0];
    if (batchFrom && rows != batch)
      userError(n, leafDesc(n) + " has " + std::to_string(rows) +
                       " rows but " + leafDesc(*batchFrom) + " has " +
                       std::to_string(batch));
    batch = rows;
    batchFrom = &n;
  }
  if (batch < 0)
    batch = 1; // no batched leaf: N appears nowhere that matters

  std::vector<Value> vals(g.nodes.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!needed[id])
      continue;
    const Node &n = g[id];
    auto in = [&](size_t i) -> const Value & { return vals[n.inputs[i]]; };
    Value &out = vals[id];
    switch (n.op) {
    case OpKind::Input:
    case OpKind::Label:
    case OpKind::Param:
    case OpKind::State: {
      auto it = leaves.find(n.name);
      if (it == leaves.end())
        userError(n, "no value given for " + leafDesc(n));
      const Value &v = it->second;
      Shape want = concreteDims(n.type, batch);
      if (v.shape != want)
        userError(n, "value for " + leafDesc(n) + " has shape " +
                         shapeStr(v.shape) + " but its type " +
                         n.type.str() + " needs " + shapeStr(want));
      if (v.numel() != numelOf(want))
        userError(n, "value for " + leafDesc(n) + " has " +
                         std::to_string(v.numel()) + " elements but shape " +
                         shapeStr(want) + " needs " +
                         std::to_string(numelOf(want)));
      out = v;
      break;
    }
    case OpKind::Const: {
      Shape s = n.type.known ? concreteDims(n.type, batch)
                : n.values.size() == 1
                    ? Shape{}
                    : Shape{static_cast<int64_t>(n.values.size())};
      int64_t k = numelOf(s);
      NN_ASSERT(n.values.size() == 1 ||
                    static_cast<int64_t>(n.values.size()) == k,
                "const has " + std::to_string(n.values.size()) +
                    " values for shape " + shapeStr(s));
      out.shape = s;
      out.data = n.values.size() == 1
                     ? std::vector<double>(static_cast<size_t>(k), n.values[0])
                     : n.values;
      break;
    }
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step:
      out = elementwise(n.op, {&in(0)});
      break;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
      out = elementwise(n.op, {&in(0), &in(1)});
      break;
    case OpKind::MatMul:
      out = matmul(in(0), in(1));
      break;
    case OpKind::Transpose:
      out = transpose(in(0));
      break;
    case OpKind::Expand:
      out = expand(in(0), in(1).shape, n.axis);
      break;
    case OpKind::Sum:
      out = reduce(in(0), n.axis, /*mean=*/false);
      break;
    case OpKind::Mean:
      out = reduce(in(0), n.axis, /*mean=*/true);
      break;
    case OpKind::Count:
      out = count(in(0), n.axis, n.type.known && n.type.isScalar());
      break;
    case OpKind::Softmax:
      out = softmax(in(0));
      break;
    case OpKind::OneHot:
      out = oneHot(in(0), n.classes, g[n.inputs[0]]);
      break;
    case OpKind::Bce:
      out = elementLoss(in(0), in(1), n.op, [](DoubleEmitter &e, double p,
                                               double y) {
        return emitBceTerm(e, p, y);
      });
      break;
    case OpKind::BceLogits:
      out = elementLoss(in(0), in(1), n.op, [](DoubleEmitter &e, double z,
                                               double y) {
        return emitBceLogitsTerm(e, z, y);
      });
      break;
    case OpKind::Mse:
      out = elementLoss(in(0), in(1), n.op, [](DoubleEmitter &e, double p,
                                               double y) {
        return emitSquaredError(e, p, y);
      });
      break;
    case OpKind::CrossEntropy:
      out = classLoss(in(0), in(1), /*logits=*/false, g[n.inputs[1]]);
      break;
    case OpKind::SoftmaxCrossEntropy:
      out = classLoss(in(0), in(1), /*logits=*/true, g[n.inputs[1]]);
      break;
    case OpKind::Dense:
    case OpKind::FusedMatMul:
    case OpKind::DenseGradInput:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradBias:
    case OpKind::SoftmaxXentGrad:
    case OpKind::SigmoidBceGrad:
    case OpKind::SgdMomentum:
    case OpKind::Sgd:
    case OpKind::Elementwise: {
      std::vector<const Value *> args;
      for (NodeId i : n.inputs)
        args.push_back(&vals[i]);
      out = evalFused(g, n, args);
      break;
    }
    }
    if (n.type.known) {
      Shape want = concreteDims(n.type, batch);
      NN_ASSERT(out.shape == want,
                "interpreter: node %" + std::to_string(id) + " (" +
                    mnemonic(n.op) + ") computed shape " +
                    shapeStr(out.shape) + " but its type is " + n.type.str());
    }
  }
  return vals;
}

Interpreter::Result Interpreter::step(const ValueMap &leaves) const {
  std::vector<Value> vals = run(leaves);
  Result r;
  for (const Output &o : g.outputs)
    r.outputs[o.name] = vals[o.node];
  for (const Update &u : g.updates)
    r.updates[g[u.target].name] = vals[u.value];
  return r;
}

} // namespace nn
