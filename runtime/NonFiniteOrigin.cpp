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

#include <fmt/format.h>

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
  bool bce = member<LossOp>(n.op) == LossOp::Bce;
  return fmt::format("{} takes probabilities in [0, 1], but its first "
                     "argument holds {:g}: {}",
                     name, bad,
                     bce ? "apply sigmoid first, or give the logits to "
                           "bce_logits"
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

namespace {

/// The help for a leaf holding non-finite values before the step.
std::string leafHelp(LeafOp op, const Node &n) {
  switch (op) {
  case LeafOp::Input:
  case LeafOp::Label:
    return "remove the NaN and infinities from the data, or fill them in";
  case LeafOp::Param:
  case LeafOp::State:
    return "the weights held them before the step: check the initializer "
           "of '" +
           n.name + "' (or the --init file)";
  case LeafOp::Const:
    break;
  }
  return "";
}

/// The help for a loss that produced them: "" when nothing points at the
/// loss's arguments.
std::string lossOpHelp(LossOp op, const Graph &g, const Node &n,
                       const std::vector<Value> &values) {
  switch (op) {
  case LossOp::Bce:
  case LossOp::CrossEntropy:
    return lossHelp(g, n, values);
  case LossOp::BceLogits:
  case LossOp::SoftmaxCrossEntropy:
  case LossOp::Mse:
    break;
  }
  return "";
}

/// The help fitted to node `n`'s family, or "" for the generic one.
std::string familyHelp(const Graph &g, const Node &n,
                       const std::vector<Value> &values) {
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return leafHelp(member<LeafOp>(n.op), n);
  case OpFamily::Loss:
    return lossOpHelp(member<LossOp>(n.op), g, n, values);
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    break;
  }
  return "";
}

} // namespace

std::string nonFiniteHelp(const Graph &g, NodeId id,
                          const std::vector<Value> &values) {
  std::string h = familyHelp(g, g[id], values);
  return h.empty() ? "check the data for NaN, or try a smaller learning rate"
                   : h;
}

namespace {

/// "op 'exp' (node %3 'h') at m.nn:4:5 produced 2 non-finite values (...)
/// of 8, shape [2,4]": where the bad values of node `id` are, and how many.
std::string describeBad(const Graph &g, NodeId id, const Value &v,
                        const BadCount &c) {
  const Node &n = g[id];
  bool leaf = hasTrait(n.op, kLeaf);
  std::string s =
      leaf ? fmt::format("{} '{}'", mnemonic(n.op), n.name)
           : fmt::format("op '{}' (node %{}{})", mnemonic(n.op), id,
                         n.name.empty() ? "" : " '" + n.name + "'");
  if (n.loc.valid())
    s += " at " + n.loc.str();
  s += fmt::format(" {} {} non-finite {} ({} NaN, {} +inf, {} -inf) of {}, "
                   "shape {}",
                   leaf ? "holds" : "produced", c.total(),
                   c.total() == 1 ? "value" : "values", c.nan, c.posInf,
                   c.negInf, v.numel(), shapeStr(v.shape));
  if (n.op == OpKind::Input || n.op == OpKind::Label)
    s += ": the data holds them";
  return s;
}

} // namespace

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
    if (help)
      *help = nonFiniteHelp(g, id, values);
    return describeBad(g, id, values[id], c);
  }
  return "";
}

} // namespace nn
