//===- Equations.cpp - A graph written as equations -----------------------===//
///
/// \file
/// Dispatch by op family (ir/Ops.def): leaves are referred to by name; an
/// elementwise op is written by its math template through the text emitter
/// (tools/teach/FormulaText.h), infix where its formula is arithmetic, else
/// as a call by its mnemonic; the other families have their own notation
/// (`@`, `^T`, `sum_over_batch(...)`) or are calls, a spatial op with its
/// window after a `;` (`conv2d(x, c1.weight, c1.bias; kernel 3x3, stride
/// 1, padding 1)`).
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Equations.h"
#include "tools/teach/LayerText.h"

#include "ir/Support.h"
#include "passes/GraphUtil.h"
#include "passes/optim/Optimizer.h"

#include <functional>
#include <set>

namespace nn {

namespace {

/// "N", "N*2", "10": the number of elements a count node counts.
std::string countText(const Graph &g, const Node &n) {
  const std::vector<int64_t> &d = g[n.inputs[0]].type.dims;
  std::vector<int64_t> counted;
  if (n.axis < 0 || n.type.isScalar())
    counted = d;
  else if (n.axis < static_cast<int64_t>(d.size()))
    counted = {d[n.axis]};
  std::string s;
  int64_t fixedPart = 1;
  for (int64_t v : counted) {
    if (v == kBatch)
      s += s.empty() ? "N" : "*N";
    else
      fixedPart *= v;
  }
  if (s.empty())
    return std::to_string(fixedPart);
  return fixedPart == 1 ? s : s + "*" + std::to_string(fixedPart);
}

/// `f(a, b, ...)`.
FormulaText callText(const std::string &f,
                     const std::vector<FormulaText> &args) {
  std::string s = f + "(";
  for (size_t k = 0; k < args.size(); ++k)
    s += (k ? ", " : "") + args[k].text;
  return {s + ")"};
}

} // namespace

const char *phaseName(Phase p) {
  switch (p) {
  case Phase::Forward:
    return "forward";
  case Phase::Backward:
    return "backward";
  case Phase::Update:
    return "update";
  }
  return "?";
}

Equations::Equations(const Graph &g) : g(g), uses(g.useCounts()) {
  std::vector<bool> external(g.size(), false);
  for (const Output &o : g.outputs)
    external[o.node] = true;
  for (const Update &u : g.updates)
    external[u.value] = true;
  root.assign(g.size(), false);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (hasTrait(n.op, kLeaf))
      continue;
    root[id] = !n.name.empty() || uses[id] != 1 || external[id];
  }
  // Phases: forward unless the node depends on the loss seed.
  std::vector<bool> seeded(g.size(), false);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op == OpKind::Const && n.name.rfind("d.", 0) == 0)
      seeded[id] = true;
    for (NodeId in : n.inputs)
      seeded[id] = seeded[id] || seeded[in];
  }
  phase.assign(g.size(), Phase::Forward);
  for (NodeId id = 0; id < g.size(); ++id)
    phase[id] = seeded[id] ? Phase::Backward : Phase::Forward;
  for (const Update &u : g.updates)
    phase[u.value] = Phase::Update;
  // The optimizer's scalars (Adam's bias corrections from the step count)
  // read only state leaves and constants: they belong to the update too.
  std::vector<bool> fromState = stateOnlyNodes(g);
  for (NodeId id = 0; id < g.size(); ++id)
    if (fromState[id] && g[id].op != OpKind::State)
      phase[id] = Phase::Update;
}

std::string Equations::ref(NodeId id) const {
  const Node &n = g[id];
  if (n.op == OpKind::Const)
    return constText(n);
  if (n.op == OpKind::State && n.name == kLrLeaf)
    return "lr"; // the lecture's name for the scheduled learning rate
  return n.name.empty() ? "%" + std::to_string(id) : n.name;
}

std::vector<NodeId> Equations::covered(NodeId id) const {
  std::set<NodeId> seen;
  std::function<void(NodeId)> walk = [&](NodeId n) {
    if (!seen.insert(n).second)
      return;
    for (NodeId in : g[n].inputs)
      if (!hasTrait(g[in].op, kLeaf) && !root[in])
        walk(in);
  };
  walk(id);
  return {seen.begin(), seen.end()};
}

std::string Equations::constText(const Node &n) const {
  if (!n.name.empty() && n.name.rfind("d.", 0) != 0)
    return n.name; // lr, momentum, l2.lambda
  if (n.values.size() == 1)
    return formatDouble(n.values[0]);
  return "const" + n.type.str();
}

FormulaText Equations::expr(NodeId id, bool top) const {
  const Node &n = g[id];
  if (!top && root[id])
    return {ref(id)};
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return {ref(id)};
  case OpFamily::Elementwise:
    return elementwise(n, top);
  case OpFamily::Linalg:
    return linalg(n);
  case OpFamily::Reduce:
    return reduce(n);
  case OpFamily::Random:
    return random(n);
  case OpFamily::Spatial:
    return spatial(n);
  case OpFamily::Rows:
  case OpFamily::Loss:
    return callText(mnemonic(n.op), operands(n));
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    // Not in an unfused graph.
    return callText(mnemonic(n.op), operands(n));
  }
  NN_UNREACHABLE("bad OpFamily");
}

FormulaText Equations::operand(const Node &n, size_t k) const {
  FormulaText t = expr(n.inputs[k]);
  t.one = isOne(n.inputs[k]);
  return t;
}

std::vector<FormulaText> Equations::operands(const Node &n) const {
  std::vector<FormulaText> args;
  for (size_t k = 0; k < n.inputs.size(); ++k)
    args.push_back(operand(n, k));
  return args;
}

FormulaText Equations::elementwise(const Node &n, bool top) const {
  std::vector<FormulaText> args = operands(n);
  // 1 * x is the chain rule's seed: left out inside a formula.
  if (std::optional<FormulaText> t = arithmeticText(n.op, args, !top))
    return *t;
  return callText(mnemonic(n.op), args);
}

FormulaText Equations::linalg(const Node &n) const {
  switch (member<LinalgOp>(n.op)) {
  case LinalgOp::MatMul:
    return FormulaEmitter::infix(operand(n, 0), " @ ", operand(n, 1),
                                 FormulaText::kProduct);
  case LinalgOp::Transpose:
    return {operand(n, 0).at(FormulaText::kAtom) + "^T"};
  case LinalgOp::Expand:
  case LinalgOp::Reshape:
    return operand(n, 0); // broadcasting is implicit, as is a reshape
  }
  NN_UNREACHABLE("bad LinalgOp");
}

/// dropout: `h1 * [u1 >= 0.2] / 0.8`, [.] the keep mask (1 or 0) of the
/// uniform draws u<stream> of that dropout at this step; its gradient
/// shows the same u, the mask reused.
FormulaText Equations::random(const Node &n) const {
  switch (member<RandomOp>(n.op)) {
  case RandomOp::Dropout: {
    FormulaText mask{"[u" + std::to_string(n.stream + 1) +
                     " >= " + formatDouble(n.param) + "]"};
    FormulaText kept = FormulaEmitter::infix(operand(n, 0), " * ", mask,
                                             FormulaText::kProduct);
    return FormulaEmitter::infix(kept, " / ", {formatDouble(1 - n.param)},
                                 FormulaText::kProduct);
  }
  }
  NN_UNREACHABLE("bad RandomOp");
}

/// A spatial op as a call by its mnemonic with its window after a `;`
/// (`conv2d(x, c1.weight, c1.bias; kernel 3x3, stride 1, padding 1)`);
/// channel_affine as its arithmetic (`xh * b1.weight + b1.bias`, per
/// channel), batch_normalize with the one operand it reads.
FormulaText Equations::spatial(const Node &n) const {
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::ChannelAffine: {
    FormulaText t = FormulaEmitter::infix(operand(n, 0), " * ", operand(n, 1),
                                          FormulaText::kProduct);
    if (n.inputs.size() > 2)
      t = FormulaEmitter::infix(t, " + ", operand(n, 2), FormulaText::kSum);
    return t;
  }
  case SpatialOp::BatchNormalize:
    return callText(mnemonic(n.op), {operand(n, 0)});
  case SpatialOp::Conv2d:
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
  case SpatialOp::BatchNormalizeGrad:
  case SpatialOp::MaxPool2d:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2d:
  case SpatialOp::AvgPool2dGrad:
    break;
  }
  FormulaText t = callText(mnemonic(n.op), operands(n));
  std::string win = windowText(n);
  if (!win.empty())
    t.text.insert(t.text.size() - 1, "; " + win);
  return t;
}

FormulaText Equations::reduce(const Node &n) const {
  switch (member<ReduceOp>(n.op)) {
  case ReduceOp::Sum:
  case ReduceOp::Mean: {
    std::string f = mnemonic(n.op);
    const TensorType &t = g[n.inputs[0]].type;
    if (n.axis == 0 && t.hasBatch())
      f += "_over_batch";
    else if (n.axis >= 0)
      f += "_axis" + std::to_string(n.axis);
    return callText(f, {operand(n, 0)});
  }
  case ReduceOp::Count:
    return {countText(g, n)};
  }
  NN_UNREACHABLE("bad ReduceOp");
}

bool Equations::isOne(NodeId id) const {
  const Node &n = g[id];
  return n.op == OpKind::Const && n.values.size() == 1 && n.values[0] == 1.0;
}

} // namespace nn
