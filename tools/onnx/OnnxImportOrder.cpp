//===- OnnxImportOrder.cpp - Topological order and the op check ----------===//
///
/// \file
/// Puts the nodes of an imported ONNX graph in an order where every value is
/// defined before it is read, and checks the ops against what nnc imports.
///
/// Algorithm: first list every node whose op nnc does not import (all of
/// them in one error, with their names). Then map each value to the node
/// that defines it (a second definition, of a node output or over an
/// initializer or the input, is an error); a node input that nothing defines
/// is an error naming the node. Kahn's algorithm orders the nodes (ties by
/// file position, so the order is the file's when it is already sorted);
/// nodes left over lie on a cycle, and the error names one of them. Last,
/// the graph output must be defined.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImportModel.h"

#include <fmt/format.h>

#include <algorithm>
#include <queue>
#include <set>

namespace nn::onnximport {

std::string Node::label() const {
  std::string who =
      name.empty() ? fmt::format("#{}", index) : fmt::format("'{}'", name);
  return fmt::format("node {} ({})", who, op);
}

int64_t Node::attrInt(const std::string &a, int64_t dflt) const {
  auto it = attrs.find(a);
  return it != attrs.end() && it->second.kind == Attr::Kind::Int ? it->second.i
                                                                 : dflt;
}

double Node::attrFloat(const std::string &a, double dflt) const {
  auto it = attrs.find(a);
  return it != attrs.end() && it->second.kind == Attr::Kind::Float
             ? it->second.f
             : dflt;
}

std::vector<int64_t> Node::attrInts(const std::string &a,
                                    std::vector<int64_t> dflt) const {
  auto it = attrs.find(a);
  return it != attrs.end() && it->second.kind == Attr::Kind::Ints
             ? it->second.ints
             : dflt;
}

std::string Node::attrString(const std::string &a,
                             const std::string &dflt) const {
  auto it = attrs.find(a);
  return it != attrs.end() && it->second.kind == Attr::Kind::String
             ? it->second.s
             : dflt;
}

namespace {

/// Each op nnc imports, with the inputs it takes (min, max).
const std::map<std::string, std::pair<size_t, size_t>> &importedOps() {
  static const std::map<std::string, std::pair<size_t, size_t>> ops = {
      {"Abs", {1, 1}},          {"Add", {2, 2}},
      {"AveragePool", {1, 1}},  {"BatchNormalization", {5, 5}},
      {"Conv", {2, 3}},         {"Div", {2, 2}},
      {"Dropout", {1, 3}},      {"Erf", {1, 1}},
      {"Exp", {1, 1}},          {"Flatten", {1, 1}},
      {"Gemm", {2, 3}},         {"GlobalAveragePool", {1, 1}},
      {"Identity", {1, 1}},     {"LayerNormalization", {1, 3}},
      {"LeakyRelu", {1, 1}},    {"Log", {1, 1}},
      {"MatMul", {2, 2}},       {"MaxPool", {1, 1}},
      {"Mul", {2, 2}},          {"Neg", {1, 1}},
      {"Relu", {1, 1}},         {"Reshape", {2, 2}},
      {"Sigmoid", {1, 1}},      {"Softmax", {1, 1}},
      {"Softplus", {1, 1}},     {"Softsign", {1, 1}},
      {"Sqrt", {1, 1}},         {"Sub", {2, 2}},
      {"Tanh", {1, 1}}};
  return ops;
}

/// The inputs a node has (its required ones not left out) and a first
/// output: a malformed node is an error before any handler reads it.
void checkArity(const Model &m, const Node &n) {
  auto [lo, hi] = importedOps().at(n.op);
  bool ok = n.inputs.size() >= lo && n.inputs.size() <= hi &&
            !n.outputs.empty() && !n.outputs[0].empty();
  for (size_t i = 0; ok && i < lo; ++i)
    ok = !n.inputs[i].empty();
  if (!ok)
    fail(m, fmt::format("{} has {} inputs and {} outputs; {} takes {} to {} "
                        "inputs and gives an output",
                        n.label(), n.inputs.size(), n.outputs.size(), n.op, lo,
                        hi));
}

void checkOps(const Model &m) {
  std::vector<std::string> bad;
  for (const Node &n : m.nodes)
    if (!importedOps().count(n.op))
      bad.push_back("  " + n.label());
  if (bad.empty()) {
    for (const Node &n : m.nodes)
      checkArity(m, n);
    return;
  }
  std::string ops;
  for (const auto &[o, arity] : importedOps())
    ops += (ops.empty() ? "" : ", ") + o;
  fail(m, fmt::format("the graph uses {} op{} nnc does not import:\n{}\n"
                      "note: nnc imports {}",
                      bad.size(), bad.size() == 1 ? "" : "s",
                      fmt::join(bad, "\n"), ops));
}

/// A node on a cycle: walking back from a node left unsorted through
/// unsorted producers, n steps end on a cycle.
size_t onCycle(const Model &m, const std::map<std::string, size_t> &def,
               const std::vector<int> &pending) {
  size_t i = static_cast<size_t>(std::find_if(pending.begin(), pending.end(),
                                              [](int p) { return p > 0; }) -
                                 pending.begin());
  for (size_t step = 0; step < m.nodes.size(); ++step)
    for (const std::string &in : m.nodes[i].inputs)
      if (auto it = def.find(in); it != def.end() && pending[it->second] > 0) {
        i = it->second;
        break;
      }
  return i;
}

} // namespace

void orderAndCheck(Model &m) {
  checkOps(m);
  std::map<std::string, size_t> def; // value -> defining node
  auto defined = [&](const std::string &v) {
    return v == m.input || m.floats.count(v) || m.ints.count(v) || def.count(v);
  };
  for (size_t i = 0; i < m.nodes.size(); ++i)
    for (const std::string &o : m.nodes[i].outputs) {
      if (o.empty())
        continue;
      if (defined(o))
        fail(m, fmt::format("'{}' is defined twice (by {})", o,
                            m.nodes[i].label()));
      def[o] = i;
    }
  std::vector<int> pending(m.nodes.size(), 0);
  std::vector<std::vector<size_t>> users(m.nodes.size());
  for (size_t i = 0; i < m.nodes.size(); ++i)
    for (const std::string &in : m.nodes[i].inputs) {
      if (in.empty())
        continue;
      if (!defined(in))
        fail(m, fmt::format("{} reads '{}', which no node, initializer or "
                            "input defines",
                            m.nodes[i].label(), in));
      if (auto it = def.find(in); it != def.end()) {
        ++pending[i];
        users[it->second].push_back(i);
      }
    }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < m.nodes.size(); ++i)
    if (pending[i] == 0)
      ready.push(i);
  std::vector<Node> sorted;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    sorted.push_back(m.nodes[i]);
    for (size_t u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (sorted.size() != m.nodes.size())
    fail(m, fmt::format("the graph has a cycle through {}",
                        m.nodes[onCycle(m, def, pending)].label()));
  m.nodes = std::move(sorted);
  if (!defined(m.output))
    fail(m, fmt::format("the graph output '{}' is not defined by any node",
                        m.output));
}

} // namespace nn::onnximport
