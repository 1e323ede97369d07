//===- LayerText.cpp - Textbook equations of a layer ----------------------===//
///
/// \file
/// The derivative of an activation is not written here: it comes from
/// emitActivationGrad (ir/ElementwiseMath.h), the formula the fused
/// backward computes, through the text emitter (tools/teach/FormulaText.h).
///
//===----------------------------------------------------------------------===//

#include "tools/teach/LayerText.h"
#include "tools/teach/FormulaText.h"

#include "ir/Attributes.h"
#include "ir/Printer.h"

#include <fmt/format.h>

namespace nn {

namespace {

/// The matched nodes of a dense layer: matmul, bias add, activation (or -1).
struct DenseNodes {
  NodeId matmul = -1, add = -1, act = -1;
};

bool isParam(const Graph &g, NodeId id) { return g[id].op == OpKind::Param; }

/// The first dense layer among `ids`, if any.
std::optional<DenseNodes> findDense(const Graph &g,
                                    const std::vector<NodeId> &ids) {
  for (NodeId id : ids) {
    const Node &mm = g[id];
    if (mm.op != OpKind::MatMul || !isParam(g, mm.inputs[1]))
      continue;
    DenseNodes d{id};
    for (NodeId u : ids)
      if (g[u].op == OpKind::Add && g[u].inputs[0] == id &&
          isParam(g, g[u].inputs[1]))
        d.add = u;
    if (d.add < 0)
      continue;
    for (NodeId u : ids)
      if (activationOf(g[u].op) && g[u].inputs[0] == d.add)
        d.act = u;
    return d;
  }
  return std::nullopt;
}

} // namespace

std::string denseLayerText(const Graph &g, const std::vector<NodeId> &ids,
                           double l2) {
  std::optional<DenseNodes> d = findDense(g, ids);
  if (!d)
    return "";
  const Node &x = g[g[d->matmul].inputs[0]];
  const Node &w = g[g[d->matmul].inputs[1]];
  const Node &b = g[g[d->add].inputs[1]];
  std::optional<Activation> act;
  double param = 0; // leaky_relu's slope
  if (d->act >= 0) {
    act = activationOf(g[d->act].op);
    param = g[d->act].param;
  }
  std::string f = act ? activationName(*act) : "";
  std::string slope =
      act && hasSlope(g[d->act].op) ? ", " + formatDouble(param) : "";
  NodeId out = act ? d->act : d->add;
  std::string os = fmt::format(
      "  dense layer: X = {} {} -> {} {};  W = {} {},  b = {} {}\n"
      "    forward:   Z = X W + b{}\n    backward:  ",
      x.name.empty() ? "%" + std::to_string(g[d->matmul].inputs[0]) : x.name,
      x.type.str(), act ? "A" : "Z", g[out].type.str(), w.name, w.type.str(),
      b.name, b.type.str(), act ? ",  A = " + f + "(Z" + slope + ")" : "");
  if (act)
    os += fmt::format("dZ = dA * {}'(Z),  ", f);
  os += fmt::format("dW = X^T dZ{},  db = sum over the batch of dZ,\n"
                    "               ",
                    l2 > 0 && w.isWeight ? " + 2 lambda W (L2)" : "");
  if (x.op == OpKind::Input)
    os += "dX = dZ W^T is not computed: X is the input, it needs no "
          "gradient\n";
  else
    os += "dX = dZ W^T (the gradient the layer before receives)\n";
  if (act)
    os += fmt::format("               {}'(Z) = {}\n", f,
                      activationGradText(*act, param));
  return os;
}

std::string lossText(const Graph &g, const std::vector<NodeId> &ids) {
  for (NodeId id : ids) {
    if (family(g[id].op) != OpFamily::Loss)
      continue;
    switch (member<LossOp>(g[id].op)) {
    case LossOp::SoftmaxCrossEntropy:
      return "  softmax + cross-entropy: loss = mean over the batch of "
             "-log softmax(Z)[y]\n"
             "    backward:  dZ = (softmax(Z) - onehot(y)) / N  (one op on "
             "the logits, stable)\n";
    case LossOp::BceLogits:
      return "  sigmoid + binary cross-entropy: loss = mean of -y log(p) - "
             "(1 - y) log(1 - p), p = sigmoid(z)\n"
             "    backward:  dz = (sigmoid(z) - y) / N  (computed from the "
             "logits z, stable)\n";
    case LossOp::Mse:
      return "  mean squared error: loss = mean of (p - y)^2\n"
             "    backward:  dp = 2 (p - y) / numel\n";
    case LossOp::Bce:
    case LossOp::CrossEntropy:
      break; // on probabilities: no textbook lines
    }
  }
  return "";
}

} // namespace nn
