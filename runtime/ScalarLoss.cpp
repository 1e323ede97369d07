//===- ScalarLoss.cpp - The scalar view of softmax and the losses ---------===//
///
/// \file
/// Softmax rows, the stable losses written per sample and then as their
/// mean, and the fused loss gradients. The per-sample terms and the softmax
/// a gradient shows come from the templates of ir/ElementwiseMath.h and
/// ir/FusedMath.h, the node values from the interpreter.
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarWriter.h"

#include "ir/ElementwiseMath.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <algorithm>
#include <cmath>

namespace nn::scalar {

namespace {

/// "[A]" of "z[A]" (or "" for a scalar): the sample an element belongs to.
std::string sampleOf(const std::string &elem) {
  size_t open = elem.find('[');
  return open == std::string::npos ? "" : elem.substr(open);
}

/// "exp(t0) + exp(t1) + ...".
std::string expSum(const std::vector<std::string> &terms) {
  std::string s;
  for (size_t j = 0; j < terms.size(); ++j)
    s += (j ? " + " : "") + ("exp(" + terms[j] + ")");
  return s;
}

} // namespace

std::pair<double, double> Writer::rowMaxAndSum(NodeId z, int64_t r,
                                               int64_t c) const {
  DoubleEmitter e;
  double m = at(z, r * c);
  for (int64_t j = 1; j < c; ++j)
    m = emitMax(e, at(z, r * c + j), m);
  double sum = 0;
  for (int64_t j = 0; j < c; ++j)
    sum += emitExpShifted(e, at(z, r * c + j), m);
  return {m, sum};
}

int64_t Writer::classOf(NodeId y, int64_t r, int64_t c) const {
  double v = at(y, r);
  if (!(v >= 0 && v < static_cast<double>(c)) || v != std::floor(v))
    throw UserError("nnc: error: class id " + scalarText(v) + " of sample " +
                    std::string(1, static_cast<char>('A' + r)) +
                    " is not in 0.." + std::to_string(c - 1));
  return static_cast<int64_t>(v);
}

void Writer::meanLine(NodeId id, const Texts &terms, int64_t count) {
  std::string n = std::to_string(count);
  emit(id, 0, {"(" + terms.sym + ") / " + n, "(" + terms.nums + ") / " + n});
}

void Writer::rows(NodeId id) {
  switch (member<RowsOp>(g[id].op)) {
  case RowsOp::Softmax:
    return softmaxRows(id, /*grad=*/false);
  case RowsOp::Normalize:
    return normalizeRows(id, /*grad=*/false);
  case RowsOp::NormalizeGrad:
    return normalizeRows(id, /*grad=*/true);
  case RowsOp::OneHot:
    unsupported(g[id]);
  }
}

void Writer::loss(NodeId id) {
  switch (member<LossOp>(g[id].op)) {
  case LossOp::BceLogits:
    return bceLogits(id);
  case LossOp::SoftmaxCrossEntropy:
    return softmaxCrossEntropy(id);
  case LossOp::Mse:
    return mse(id);
  case LossOp::Bce:
  case LossOp::CrossEntropy:
    unsupported(g[id]);
  }
}

void Writer::lossGrad(NodeId id) {
  switch (member<LossGradOp>(g[id].op)) {
  case LossGradOp::SoftmaxXentGrad:
    return softmaxRows(id, /*grad=*/true);
  case LossGradOp::SigmoidBceGrad:
    return sigmoidBceGrad(id);
  }
}

/// softmax(z) per row, or (with `grad`) fused.softmax_xent_grad's
/// (softmax(z) - [y = j]) * g / rows.
void Writer::softmaxRows(NodeId id, bool grad) {
  const Node &n = g[id];
  NodeId z = n.inputs[0];
  int64_t c = vals[z].shape.empty() ? 1 : vals[z].shape.back();
  int64_t rows = vals[z].numel() / std::max<int64_t>(c, 1);
  DoubleEmitter e;
  for (int64_t r = 0; r < rows; ++r) {
    auto [m, sum] = rowMaxAndSum(z, r, c);
    std::vector<std::string> names, nums;
    for (int64_t j = 0; j < c; ++j) {
      names.push_back(ref(z, r * c + j));
      nums.push_back(scalarText(at(z, r * c + j)));
    }
    std::string den = expSum(names), denNum = expSum(nums);
    int64_t cls = grad ? classOf(n.inputs[1], r, c) : -1;
    for (int64_t j = 0; j < c; ++j) {
      Texts t{"exp(" + names[j] + ") / (" + den + ")",
              "exp(" + nums[j] + ") / (" + denNum + ")"};
      if (grad) {
        double p = emitExpShifted(e, at(z, r * c + j), m) / sum;
        std::string rs = std::to_string(rows);
        t = {"(" + t.sym + " - [" + ref(n.inputs[1], r) + " = " +
                 std::to_string(j) + "]) * " + ref(n.inputs[2], 0) + " / " +
                 rs,
             "(" + scalarText(p) + " - " + scalarText(j == cls ? 1.0 : 0.0) +
                 ") * " + num(at(n.inputs[2], 0)) + " / " + rs};
      }
      emit(id, r * c + j, t);
    }
  }
}

void Writer::bceLogits(NodeId id) {
  const Node &n = g[id];
  NodeId z = n.inputs[0], y = n.inputs[1];
  int64_t cnt = vals[z].numel();
  DoubleEmitter e;
  Texts terms;
  for (int64_t i = 0; i < cnt; ++i) {
    double zv = at(z, i), yv = at(y, i);
    double t = emitBceLogitsTerm(e, zv, yv);
    std::string who = elem(z, i), sample = sampleOf(who), yi = ref(y, i);
    lossTerm(i,
             "loss" + sample + " = -(" + yi + " log p" + sample + " + (1 - " +
                 yi + ") log(1 - p" + sample + ")), p = sigmoid(" + who +
                 "), from the logit: max(" + who + ", 0) - " + who + " * " +
                 yi + " + log(1 + exp(-|" + who + "|)) = max(" +
                 scalarText(zv) + ", 0) - " + num(zv) + " * " + num(yv) +
                 " + log(1 + exp(-" + scalarText(std::fabs(zv)) +
                 ")) = " + scalarText(t),
             t);
    terms.sym += (i ? " + " : "") + std::string("loss") + sample;
    terms.nums += (i ? " + " : "") + num(t);
  }
  meanLine(id, terms, cnt);
}

void Writer::softmaxCrossEntropy(NodeId id) {
  const Node &n = g[id];
  NodeId z = n.inputs[0], y = n.inputs[1];
  int64_t c = vals[z].shape.empty() ? 1 : vals[z].shape.back();
  int64_t rows = vals[z].numel() / std::max<int64_t>(c, 1);
  if (vals[y].numel() != rows)
    unsupported(n); // dense targets
  DoubleEmitter e;
  Texts terms;
  for (int64_t r = 0; r < rows; ++r) {
    auto [m, sum] = rowMaxAndSum(z, r, c);
    int64_t k = classOf(y, r, c);
    double t = emitLogSumExp(e, m, sum) - at(z, r * c + k);
    std::vector<std::string> names, nums;
    for (int64_t j = 0; j < c; ++j) {
      names.push_back(ref(z, r * c + j));
      nums.push_back(scalarText(at(z, r * c + j)));
    }
    std::string who = elem(z, r * c);
    std::string sample = who.substr(who.find('['), 2) + "]";
    lossTerm(r,
             "loss" + sample + " = -log softmax(" + nodeName(z) + sample +
                 ")[" + ref(y, r) + "] = log(" + expSum(names) + ") - " +
                 ref(z, r * c + k) + " = log(" + expSum(nums) + ") - " +
                 num(at(z, r * c + k)) + " = " + scalarText(t),
             t);
    terms.sym += (r ? " + " : "") + ("loss" + sample);
    terms.nums += (r ? " + " : "") + num(t);
  }
  meanLine(id, terms, rows);
}

void Writer::mse(NodeId id) {
  const Node &n = g[id];
  NodeId p = n.inputs[0], y = n.inputs[1];
  int64_t cnt = vals[p].numel();
  DoubleEmitter e;
  Texts terms;
  for (int64_t i = 0; i < cnt; ++i) {
    double t = emitSquaredError(e, at(p, i), at(y, i));
    std::string who = elem(p, i), sample = sampleOf(who);
    lossTerm(i,
             "loss" + sample + " = (" + who + " - " + ref(y, i) + ")^2 = (" +
                 scalarText(at(p, i)) + " - " + num(at(y, i)) +
                 ")^2 = " + scalarText(t),
             t);
    terms.sym += (i ? " + " : "") + ("loss" + sample);
    terms.nums += (i ? " + " : "") + num(t);
  }
  meanLine(id, terms, cnt);
}

void Writer::sigmoidBceGrad(NodeId id) {
  const Node &n = g[id];
  NodeId z = n.inputs[0], y = n.inputs[1], gr = n.inputs[2];
  int64_t cnt = vals[z].numel();
  std::string cs = std::to_string(cnt);
  DoubleEmitter e;
  for (int64_t i = 0; i < cnt; ++i) {
    double p = emitSigmoid(e, at(z, i));
    emit(id, i,
         {"(sigmoid(" + elem(z, i) + ") - " + ref(y, i) + ") * " +
              ref(gr, 0) + " / " + cs,
          "(" + scalarText(p) + " - " + num(at(y, i)) + ") * " +
              num(at(gr, 0)) + " / " + cs});
  }
}

} // namespace nn::scalar
