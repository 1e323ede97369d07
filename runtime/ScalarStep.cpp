//===- ScalarStep.cpp - One training step as scalar arithmetic ------------===//
///
/// \file
/// Algorithm: evaluate the step once on the reference interpreter, then
/// walk the fused graph in order; for each node that computes something,
/// write every element's formula twice, once with names and once with the
/// numbers, and give it the interpreter's value. Nodes are dispatched by op
/// family (runtime/ScalarWriter.h); elementwise ops are written by the text
/// emitter of runtime/ElementwiseText.h, with no case per op. Sums are
/// written term by term in the order the kernels add them (the reduction
/// index innermost). Leaves, constants, counts, transposes and broadcasts
/// print nothing: they move numbers or count them, and the op that reads
/// them names the element it reads.
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarStep.h"
#include "runtime/ElementwiseText.h"
#include "runtime/ScalarWriter.h"

#include "ir/Attributes.h"
#include "ir/Support.h"
#include "passes/GraphUtil.h"
#include "passes/optim/Optimizer.h"

#include <fmt/format.h>

namespace nn {

std::string scalarText(double v) { return fmt::format("{:.6g}", v); }

std::vector<ScalarLine> scalarStep(const Graph &g, const ValueMap &leaves,
                                   const ScalarLimits &limits) {
  return scalar::Writer(g, leaves, limits).run();
}

namespace scalar {

namespace {

/// A seed of the backward pass: the constant gradient "d.loss" = 1 that
/// autodiff starts from.
bool isSeed(const Node &n) {
  return n.op == OpKind::Const && n.name.rfind("d.", 0) == 0;
}

} // namespace

std::string num(double v) {
  std::string s = scalarText(v);
  return v < 0 ? "(" + s + ")" : s;
}

Writer::Writer(const Graph &g, const ValueMap &leaves,
               const ScalarLimits &limits)
    : g(g), limits(limits) {
  for (const Node &n : g.nodes) {
    if (!hasTrait(n.op, kLeaf) || n.op == OpKind::Const)
      continue;
    auto it = leaves.find(n.name);
    if (it == leaves.end())
      throw UserError("nnc: error: no value for '" + n.name + "'");
    if (n.type.hasBatch() && !it->second.shape.empty())
      batch = it->second.shape[0];
  }
  if (batch > limits.maxBatch)
    throw UserError("nnc: error: explain --scalar writes out at most " +
                    std::to_string(limits.maxBatch) +
                    " samples per step; this batch has " +
                    std::to_string(batch) + " (use --batch)");
  seeded.assign(g.size(), false);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    seeded[id] = isSeed(n);
    for (NodeId in : n.inputs)
      seeded[id] = seeded[id] || seeded[in];
  }
  updateValue.assign(g.size(), false);
  for (const Update &u : g.updates)
    updateValue[u.value] = true;
  // The optimizer's scalars (Adam's bias corrections from the step count)
  // read only state leaves and constants: they belong to the update too.
  std::vector<bool> fromState = stateOnlyNodes(g);
  for (NodeId id = 0; id < g.size(); ++id)
    updateValue[id] =
        updateValue[id] || (fromState[id] && g[id].op != OpKind::State);
  vals = Interpreter(g).run(leaves);
}

std::vector<ScalarLine> Writer::run() {
  for (NodeId id = 0; id < g.size(); ++id)
    node(id);
  return std::move(lines);
}

// --- naming ---------------------------------------------------------------

std::string Writer::nodeName(NodeId id) const {
  if (g[id].op == OpKind::State && g[id].name == kLrLeaf)
    return "lr"; // the lecture's name for the scheduled learning rate
  return g[id].name.empty() ? "%" + std::to_string(id) : g[id].name;
}

std::string Writer::elem(NodeId id, int64_t flat) const {
  const std::vector<int64_t> &shape = vals[id].shape;
  if (shape.empty())
    return nodeName(id);
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = nodeName(id) + "[";
  for (size_t d = 0; d < idx.size(); ++d) {
    if (d)
      s += ",";
    if (d == 0 && g[id].type.hasBatch())
      s += static_cast<char>('A' + idx[d]);
    else
      s += std::to_string(idx[d] + 1);
  }
  return s + "]";
}

std::string Writer::ref(NodeId id, int64_t flat) const {
  const Node &n = g[id];
  if ((isSeed(n) || (n.op == OpKind::Const && n.name.empty())) &&
      vals[id].data.size() == 1)
    return scalarText(vals[id].data[0]);
  return elem(id, flat);
}

int64_t Writer::bcast(NodeId in, NodeId outNode, int64_t flat) const {
  const std::vector<int64_t> &s = vals[in].shape;
  const std::vector<int64_t> &out = vals[outNode].shape;
  std::vector<int64_t> idx(out.size());
  for (size_t d = out.size(); d-- > 0;) {
    idx[d] = flat % out[d];
    flat /= out[d];
  }
  int64_t r = 0;
  size_t off = out.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d)
    r = r * s[d] + (s[d] == 1 ? 0 : idx[off + d]);
  return r;
}

// --- output ---------------------------------------------------------------

ScalarLine::Section Writer::sectionOf(NodeId id) const {
  const Node &n = g[id];
  if (hasTrait(n.op, kLoss))
    return Section::Loss;
  if (updateValue[id] || family(n.op) == OpFamily::Update)
    return Section::Update;
  return seeded[id] ? Section::Backward : Section::Forward;
}

void Writer::checkLineLimit(const char *more) const {
  if (static_cast<int64_t>(lines.size()) >= limits.maxLines)
    throw UserError("nnc: error: explain --scalar writes out at most " +
                    std::to_string(limits.maxLines) +
                    " scalars per step; this model needs more" + more);
}

void Writer::emit(NodeId id, int64_t flat, const Texts &t) {
  checkLineLimit(" (use a smaller model or --batch)");
  ScalarLine l;
  l.section = sectionOf(id);
  l.node = id;
  l.index = flat;
  l.value = at(id, flat);
  l.text = elem(id, flat) + " = " + t.sym + " = " + t.nums + " = " +
           scalarText(l.value);
  lines.push_back(l);
}

void Writer::lossTerm(int64_t i, const std::string &text, double v) {
  checkLineLimit("");
  ScalarLine l;
  l.section = Section::Loss;
  l.node = -1;
  l.index = i;
  l.value = v;
  l.text = text;
  lines.push_back(l);
}

void Writer::unsupported(const Node &n) const {
  throw UserError("nnc: error: explain --scalar does not write out '" +
                  std::string(mnemonic(n.op)) + "' yet (node " +
                  nodeName(static_cast<NodeId>(&n - &g.nodes[0])) +
                  "); it covers dense layers, elementwise ops, sums, "
                  "softmax, layer_norm, conv2d, pooling, batch norm, the "
                  "stable losses (bce from logits, softmax cross-entropy on "
                  "class ids, mse) and SGD");
}

// --- dispatch -------------------------------------------------------------

void Writer::node(NodeId id) {
  switch (family(g[id].op)) {
  case OpFamily::Leaf:
    return; // bound, not computed
  case OpFamily::Elementwise:
    return elementwise(id);
  case OpFamily::Linalg:
    return linalg(id);
  case OpFamily::Reduce:
    return reduction(id);
  case OpFamily::Rows:
    return rows(id);
  case OpFamily::Random:
    return random(id);
  case OpFamily::Spatial:
    return spatial(id);
  case OpFamily::Loss:
    return loss(id);
  case OpFamily::Dense:
    return dense(id);
  case OpFamily::LossGrad:
    return lossGrad(id);
  case OpFamily::Update:
    return update(id);
  case OpFamily::FusedElementwise:
    return fusedElementwise(id);
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// A unary op is written as a call by its mnemonic ("sigmoid(z[A])"), a
/// binary one as its arithmetic ("x[A] + b"), both from the op table.
void Writer::elementwise(NodeId id) {
  const Node &n = g[id];
  ElementwiseOp op = member<ElementwiseOp>(n.op);
  bool unary = n.inputs.size() == 1;
  for (int64_t i = 0; i < vals[id].numel(); ++i) {
    std::vector<std::string> syms, nums;
    for (NodeId in : n.inputs) {
      int64_t k = bcast(in, id, i);
      syms.push_back(ref(in, k));
      nums.push_back(unary ? scalarText(at(in, k)) : num(at(in, k)));
    }
    std::string slope =
        hasSlope(n.op) ? ", " + scalarText(n.param) : std::string();
    if (unary)
      emit(id, i,
           {fmt::format("{}({}{})", mnemonic(n.op), syms[0], slope),
            fmt::format("{}({}{})", mnemonic(n.op), nums[0], slope)});
    else
      emit(id, i,
           {withoutOuterParens(elementwiseOpText(op, syms)),
            withoutOuterParens(elementwiseOpText(op, nums))});
  }
}

void Writer::fusedElementwise(NodeId id) {
  const Node &n = g[id];
  for (int64_t i = 0; i < vals[id].numel(); ++i) {
    std::vector<std::string> syms, nums;
    for (NodeId in : n.inputs) {
      int64_t k = bcast(in, id, i);
      syms.push_back(ref(in, k));
      nums.push_back(num(at(in, k)));
    }
    emit(id, i, {elementwiseText(n.body, syms), elementwiseText(n.body, nums)});
  }
}

/// The lecture's forms: "v = mu * v + g", "w = w - lr * (step)".
void Writer::update(NodeId id) {
  const Node &n = g[id];
  NodeId a = n.inputs[0], b = n.inputs[1], h = n.inputs[2];
  for (int64_t i = 0; i < vals[id].numel(); ++i) {
    switch (member<UpdateOp>(n.op)) {
    case UpdateOp::SgdMomentum:
      emit(id, i,
           {nodeName(h) + " * " + ref(a, i) + " + " + ref(b, i),
            num(at(h, 0)) + " * " + num(at(a, i)) + " + " + num(at(b, i))});
      break;
    case UpdateOp::Sgd:
      emit(id, i,
           {ref(a, i) + " - " + nodeName(h) + " * " + ref(b, i),
            num(at(a, i)) + " - " + num(at(h, 0)) + " * (" +
                scalarText(at(b, i)) + ")"});
      break;
    case UpdateOp::AdamMoment:
    case UpdateOp::AdamVariance:
    case UpdateOp::Adam:
      emit(id, i, adamText(n, i));
      break;
    }
  }
}

/// Adam's forms: "beta1 * m + (1 - beta1) * g", "beta2 * v + (1 - beta2) *
/// g^2", "w * decay - step * m / (sqrt(v) / c2 + eps)".
Texts Writer::adamText(const Node &n, int64_t i) const {
  const std::vector<NodeId> &in = n.inputs;
  auto scalar = [&](size_t k) { return num(at(in[k], 0)); };
  switch (member<UpdateOp>(n.op)) {
  case UpdateOp::AdamMoment:
  case UpdateOp::AdamVariance: {
    bool sq = member<UpdateOp>(n.op) == UpdateOp::AdamVariance;
    std::string b = nodeName(in[2]), g = ref(in[1], i), p = sq ? "^2" : "";
    std::string gn = num(at(in[1], i));
    return {fmt::format("{} * {} + (1 - {}) * {}{}", b, ref(in[0], i), b, g, p),
            fmt::format("{} * {} + (1 - {}) * {}{}", scalar(2),
                        num(at(in[0], i)), scalar(2), gn, p)};
  }
  case UpdateOp::Adam:
    return {
        fmt::format("{} * {} - {} * {} / (sqrt({}) / {} + {})", ref(in[0], i),
                    nodeName(in[3]), nodeName(in[4]), ref(in[1], i),
                    ref(in[2], i), nodeName(in[5]), nodeName(in[6])),
        fmt::format("{} * {} - {} * {} / (sqrt({}) / {} + {})",
                    num(at(in[0], i)), scalar(3), scalar(4), num(at(in[1], i)),
                    scalarText(at(in[2], i)), scalar(5), scalar(6))};
  case UpdateOp::SgdMomentum:
  case UpdateOp::Sgd:
    break;
  }
  NN_UNREACHABLE("not an Adam update");
}

} // namespace scalar

} // namespace nn
