//===- NonFiniteOrigin.cpp - Why a value became NaN or infinite -----------===//
///
/// \file
/// Algorithm: look at the first non-finite node and, for the losses on
/// probabilities, at their first operand's values: a label there means the
/// arguments are swapped; values outside [0, 1] mean logits (or anything
/// but probabilities) were given.
///
//===----------------------------------------------------------------------===//

#include "runtime/NonFiniteOrigin.h"

#include <cmath>
#include <cstdio>

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
  default:
    break;
  }
  return "check the data for NaN, or try a smaller learning rate";
}

} // namespace nn
