//===- ElementwiseText.cpp - A fused elementwise body as arithmetic -------===//

#include "runtime/ElementwiseText.h"
#include "runtime/ScalarStep.h"

namespace nn {

namespace {

/// A number as an operand: negative numbers in parentheses.
std::string num(double v) {
  std::string s = scalarText(v);
  return v < 0 ? "(" + s + ")" : s;
}

} // namespace

std::string elementwiseText(const std::vector<ExprStep> &body,
                            const std::vector<std::string> &args) {
  std::vector<std::string> steps;
  for (const ExprStep &st : body) {
    if (st.op == OpKind::Const) {
      steps.push_back(num(st.value));
      continue;
    }
    std::vector<std::string> a;
    for (int k : st.args)
      a.push_back(k >= 0 ? args[static_cast<size_t>(k)]
                         : steps[static_cast<size_t>(-1 - k)]);
    std::string t;
    switch (st.op) {
    case OpKind::Add:
      t = "(" + a[0] + " + " + a[1] + ")";
      break;
    case OpKind::Sub:
      t = "(" + a[0] + " - " + a[1] + ")";
      break;
    case OpKind::Mul:
      t = a[0] + " * " + a[1];
      break;
    case OpKind::Div:
      t = a[0] + " / " + a[1];
      break;
    case OpKind::Neg:
      t = "-" + a[0];
      break;
    case OpKind::Input:
    case OpKind::Label:
    case OpKind::Param:
    case OpKind::State:
    case OpKind::Const:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step:
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
    case OpKind::Dense:
    case OpKind::FusedMatMul:
    case OpKind::DenseGradInput:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradBias:
    case OpKind::SoftmaxXentGrad:
    case OpKind::SigmoidBceGrad:
    case OpKind::SgdMomentum:
    case OpKind::Sgd:
    case OpKind::Elementwise:
      t = std::string(mnemonic(st.op)) + "(" + a[0] + ")";
    }
    steps.push_back(t);
  }
  // Outer parentheses off, when they enclose the whole text.
  std::string r = steps.back();
  int depth = 0;
  bool outer = r.size() > 2 && r.front() == '(';
  for (size_t i = 0; outer && i + 1 < r.size(); ++i) {
    depth += r[i] == '(' ? 1 : r[i] == ')' ? -1 : 0;
    if (depth == 0)
      outer = false;
  }
  return outer && r.back() == ')' ? r.substr(1, r.size() - 2) : r;
}

} // namespace nn
