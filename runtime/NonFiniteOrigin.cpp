//===- NonFiniteOrigin.cpp - Why a value became NaN or infinite -----------===//
///
/// \file
/// Algorithm: findNonFinite runs the step on the interpreter and stops at
/// the first node, in graph order, holding NaN or infinities (in float32).
/// The help looks at that node and, for the losses on
/// probabilities, at their first operand's values: a label there means the
/// arguments are swapped; values outside [0, 1] mean logits (or anything
/// but probabilities) were given.
///
//===----------------------------------------------------------------------===//

#include "runtime/NonFiniteOrigin.h"

#include "ir/Format.h"
#include "runtime/Trainer.h"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace nn {

namespace {

/// Finds the first value of `v` outside [0, 1] (NaN included).
bool outsideUnit(const Value &v, double &found) {
  for (double d : v.data)
    if (!(d >= 0 && d <= 1)) {
      found = d;
      return true;
    }
  return false;
}

std::string lossHelp(const Graph &g, const Node &n,
                     const std::vector<Value> &values) {
  const Node &first = g[n.inputs[0]];
  const char *name = mnemonic(n.op);
  if (first.op == OpKind::Label)
    return std::string(name) +
           " takes the probabilities first and the "
           "labels second: write " +
           name + "(p, " + first.name + ")";
  double bad = 0;
  if (!outsideUnit(values[n.inputs[0]], bad))
    return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g", bad);
  bool bce = n.op == OpKind::Bce;
  return std::string(name) +
         " takes probabilities in [0, 1], but its first "
         "argument holds " +
         buf + ": " +
         (bce ? "apply sigmoid first, or give the logits to bce_logits"
              : "apply softmax first, or give the logits to "
                "softmax_cross_entropy");
}

/// Counts of values that are NaN, or infinite once rounded to float32.
struct BadCount {
  int64_t nan = 0, posInf = 0, negInf = 0;
  int64_t total() const { return nan + posInf + negInf; }
};

BadCount countBad(const std::vector<double> &data) {
  BadCount c;
  for (double d : data) {
    if (std::isnan(d))
      ++c.nan;
    else if (d > FLT_MAX)
      ++c.posInf;
    else if (d < -FLT_MAX)
      ++c.negInf;
  }
  return c;
}

} // namespace

std::string nonFiniteHelp(const Graph &g, NodeId id,
                          const std::vector<Value> &values) {
  const Node &n = g[id];
  switch (n.op) {
  case OpKind::Input:
  case OpKind::Label:
    return "remove the NaN and infinities from the data, or fill them in";
  case OpKind::Param:
  case OpKind::State:
    return "the weights held them before the step: check the initializer "
           "of '" +
           n.name + "' (or the --init file)";
  case OpKind::Bce:
  case OpKind::CrossEntropy: {
    std::string h = lossHelp(g, n, values);
    if (!h.empty())
      return h;
    break;
  }
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
  case OpKind::BceLogits:
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
    break;
  }
  return "check the data for NaN, or try a smaller learning rate";
}

// Declared in runtime/Trainer.h, which the trainer's callers include.
std::string findNonFinite(const Graph &g, const TensorMap &state,
                          const TensorMap &batch, std::string *help) {
  ValueMap leaves;
  for (const auto &[name, t] : state)
    leaves[name] = toValue(t);
  for (const auto &[name, t] : batch)
    leaves[name] = toValue(t);
  std::vector<Value> values = Interpreter(g).run(leaves);
  for (NodeId id = 0; id < g.size(); ++id) {
    BadCount c = countBad(values[id].data);
    if (c.total() == 0)
      continue;
    const Node &n = g[id];
    std::ostringstream os;
    bool leaf = hasTrait(n.op, kLeaf);
    if (leaf)
      os << mnemonic(n.op) << " '" << n.name << "'";
    else
      os << "op '" << mnemonic(n.op) << "' (node %" << id
         << (n.name.empty() ? "" : " '" + n.name + "'") << ")";
    if (n.loc.valid())
      os << " at " << n.loc.str();
    os << (leaf ? " holds " : " produced ") << c.total() << " non-finite "
       << (c.total() == 1 ? "value" : "values") << " (" << c.nan << " NaN, "
       << c.posInf << " +inf, " << c.negInf << " -inf) of "
       << values[id].numel() << ", shape " << shapeStr(values[id].shape);
    if (n.op == OpKind::Input || n.op == OpKind::Label)
      os << ": the data holds them";
    if (help)
      *help = nonFiniteHelp(g, id, values);
    return os.str();
  }
  return "";
}

} // namespace nn
