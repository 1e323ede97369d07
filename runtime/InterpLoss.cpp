//===- InterpLoss.cpp - Naive kernels: rows, losses, loss gradients -------===//
///
/// \file
/// Softmax, one-hot, the losses and their fused gradients over double. The
/// per-element terms come from ir/ElementwiseMath.h and ir/FusedMath.h; a
/// class id out of range is the user's error, named at the label.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/ElementwiseMath.h"
#include "ir/Format.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <cmath>

#include <fmt/format.h>

namespace nn::interp {

namespace {

/// A class id as text: "12", or "1.5" when it is not an integer.
std::string numStr(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  return fmt::format("{:g}", v);
}

/// Checks that `v` is a class id in [0, classes) and returns it. `label` is
/// the node holding the ids (a Label leaf in every lowered model).
int64_t classId(double v, int64_t classes, const Node &label, int64_t row) {
  std::string what = label.op == OpKind::Label
                         ? fmt::format(" (label '{}', row {})", label.name, row)
                         : fmt::format(" (row {})", row);
  if (!std::isfinite(v) || v != std::floor(v))
    userError(label, "label " + numStr(v) + " is not a class id" + what);
  if (v < 0 || v >= static_cast<double>(classes))
    userError(label, "label " + numStr(v) + " out of range for class(" +
                         std::to_string(classes) + ")" + what);
  return static_cast<int64_t>(v);
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

/// The scalar operand of a loss gradient: its upstream gradient.
double scalarOf(const Value &v) {
  NN_ASSERT(v.numel() == 1, "expected a scalar, got " + shapeStr(v.shape));
  return v.data[0];
}

} // namespace

int64_t rowLen(const Value &a) { return a.shape.empty() ? 1 : a.shape.back(); }

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

Value rows(RowsOp op, const Graph &g, const Node &n, const Args &in) {
  switch (op) {
  case RowsOp::Softmax:
    return softmax(*in[0]);
  case RowsOp::OneHot:
    return oneHot(*in[0], n.classes, g[n.inputs[0]]);
  case RowsOp::Normalize:
    return normalize(*in[0], n.param);
  case RowsOp::NormalizeGrad:
    return normalizeGrad(*in[0], *in[1], n.param);
  }
  NN_UNREACHABLE("bad RowsOp");
}

Value loss(LossOp op, const Graph &g, const Node &n, const Args &in) {
  const Value &a = *in[0], &b = *in[1];
  switch (op) {
  case LossOp::Bce:
    return elementLoss(a, b, n.op, [](DoubleEmitter &e, double p, double y) {
      return emitBceTerm(e, p, y);
    });
  case LossOp::BceLogits:
    return elementLoss(a, b, n.op, [](DoubleEmitter &e, double z, double y) {
      return emitBceLogitsTerm(e, z, y);
    });
  case LossOp::Mse:
    return elementLoss(a, b, n.op, [](DoubleEmitter &e, double p, double y) {
      return emitSquaredError(e, p, y);
    });
  case LossOp::CrossEntropy:
    return classLoss(a, b, /*logits=*/false, g[n.inputs[1]]);
  case LossOp::SoftmaxCrossEntropy:
    return classLoss(a, b, /*logits=*/true, g[n.inputs[1]]);
  }
  NN_UNREACHABLE("bad LossOp");
}

Value lossGrad(LossGradOp op, const Graph &g, const Node &n,
               const Args &in) {
  DoubleEmitter e;
  const Value &z = *in[0];
  switch (op) {
  case LossGradOp::SoftmaxXentGrad: {
    int64_t c = rowLen(z), rows = c == 0 ? 0 : z.numel() / c;
    Value hot = oneHot(*in[1], c, g[n.inputs[1]]);
    Value r = softmax(z);
    double scale = scalarOf(*in[2]) / static_cast<double>(rows);
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = emitSoftmaxXentGrad(e, r.data[i], hot.data[i], scale);
    return r;
  }
  case LossGradOp::SigmoidBceGrad: {
    const Value &y = *in[1];
    NN_ASSERT(z.numel() == y.numel(), "fused.sigmoid_bce_grad: sizes differ");
    double scale = scalarOf(*in[2]) / static_cast<double>(z.numel());
    Value r = z;
    for (int64_t i = 0; i < r.numel(); ++i)
      r.data[i] = emitSigmoidBceGrad(e, z.data[i], y.data[i], scale);
    return r;
  }
  }
  NN_UNREACHABLE("bad LossGradOp");
}

} // namespace nn::interp
