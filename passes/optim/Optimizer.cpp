//===- Optimizer.cpp - The optimizer table and pass -----------------------===//
///
/// \file
/// Algorithm: the table rows become data once; applyOptimizer takes the
/// "grad.<param>" outputs autodiff left, removes them, and hands the
/// parameters with their gradients to the optimizer's file.
///
//===----------------------------------------------------------------------===//

#include "passes/optim/Optimizer.h"

#include "ir/Support.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <sstream>

namespace nn {

const std::vector<HyperParam> &hyperParams() {
  static const std::vector<HyperParam> rows = {
#define NN_HYPERPARAM(Field, Name, Default, Range, What)                       \
  {Name, &OptimizerSpec::Field, Default, HyperRange::Range, What},
#include "ir/Optimizers.def"
  };
  return rows;
}

namespace {

/// Optimizer row `kind` with the hyperparameters named in `list` ("lr=0.001
/// momentum": a "name=value" has that default for this optimizer); an
/// unknown name or a bad value is a bug in the table.
OptimizerInfo infoOf(OptimizerSpec::Kind kind, const char *name,
                     const char *list, const char *example) {
  OptimizerInfo info{kind, name, {}, {}, example};
  std::istringstream in(list);
  for (std::string word; in >> word;) {
    size_t eq = word.find('=');
    std::string key = word.substr(0, eq);
    const HyperParam *p = findHyperParam(key);
    NN_ASSERT(p, "Optimizers.def: unknown hyperparameter '" + key + "'");
    double value = p->defaultValue;
    if (eq != std::string::npos) {
      size_t used = 0;
      value = std::stod(word.substr(eq + 1), &used);
      NN_ASSERT(used == word.size() - eq - 1 && inRange(p->range, value),
                "Optimizers.def: bad default '" + word + "'");
    }
    info.params.push_back(p);
    info.defaults.push_back(value);
  }
  return info;
}

} // namespace

const std::vector<OptimizerInfo> &optimizers() {
  static const std::vector<OptimizerInfo> rows = {
#define NN_OPTIMIZER(K, Name, Params, Example)                                 \
  infoOf(OptimizerSpec::Kind::K, Name, Params, Example),
#include "ir/Optimizers.def"
  };
  return rows;
}

const OptimizerInfo *findOptimizer(std::string_view name) {
  for (const OptimizerInfo &o : optimizers())
    if (name == o.name)
      return &o;
  return nullptr;
}

const HyperParam *findHyperParam(std::string_view name) {
  for (const HyperParam &p : hyperParams())
    if (name == p.name)
      return &p;
  return nullptr;
}

const OptimizerInfo &optimizerInfo(OptimizerSpec::Kind kind) {
  for (const OptimizerInfo &o : optimizers())
    if (o.kind == kind)
      return o;
  NN_UNREACHABLE("optimizer kind missing from Optimizers.def");
}

OptimizerSpec defaultSpec(const OptimizerInfo &info) {
  OptimizerSpec spec;
  spec.kind = info.kind;
  for (size_t i = 0; i < info.params.size(); ++i)
    spec.*(info.params[i]->field) = info.defaults[i];
  return spec;
}

std::vector<std::string> optimizerSettings(const OptimizerInfo &info) {
  std::vector<std::string> names;
  for (const HyperParam *p : info.params)
    names.push_back(p->name);
  return names;
}

bool takes(const OptimizerInfo &info, const HyperParam &p) {
  return std::find(info.params.begin(), info.params.end(), &p) !=
         info.params.end();
}

std::vector<std::string> optimizerNames() {
  std::vector<std::string> names;
  for (const OptimizerInfo &o : optimizers())
    names.push_back(o.name);
  return names;
}

std::string describeOptimizer(const OptimizerSpec &spec) {
  const OptimizerInfo &info = optimizerInfo(spec.kind);
  std::vector<std::string> args;
  for (const HyperParam *p : info.params) {
    double v = spec.*(p->field);
    bool off =
        p->range == HyperRange::Bool || p->range == HyperRange::NonNegative;
    if (!(off && v == 0))
      args.push_back(p->range == HyperRange::Bool
                         ? fmt::format("{}=true", p->name)
                         : fmt::format("{}={:g}", p->name, v));
  }
  return fmt::format("{}({})", info.name, fmt::join(args, ", "));
}

NodeId OptimizerContext::stateLeaf(NodeId param, const std::string &state) {
  Node v = makeNode(OpKind::State, {}, g[param].loc);
  v.name = "optimizer." + g[param].name + "." + state;
  v.type = g[param].type;
  return g.add(std::move(v));
}

NodeId OptimizerContext::lr() {
  // A State leaf, not a Const: the trainer writes the scheduled value into
  // the executor before each step (Executor::setScalar), so a schedule
  // needs no recompilation. Its first value is the recipe's lr.
  if (lrNode >= 0)
    return lrNode;
  if (auto id = g.findLeaf(OpKind::State, kLrLeaf))
    return lrNode = *id;
  Node n = makeNode(OpKind::State, {}, b.loc); // the first update's
  n.name = kLrLeaf;
  n.type = TensorType::scalar();
  n.values = {spec.lr};
  return lrNode = g.add(std::move(n));
}

namespace {

/// The scalar State leaf `name` of `g`, added (with first value `first`
/// when given) when `g` has none.
NodeId scalarLeaf(Graph &g, const char *name, std::vector<double> first) {
  if (auto id = g.findLeaf(OpKind::State, name))
    return *id;
  Node t = makeNode(OpKind::State, {}, SrcLoc{});
  t.name = name;
  t.type = TensorType::scalar();
  t.values = std::move(first);
  return g.add(std::move(t));
}

} // namespace

NodeId stepLeaf(Graph &g) { return scalarLeaf(g, kStepLeaf, {}); }

NodeId firstRowLeaf(Graph &g) { return scalarLeaf(g, kFirstRowLeaf, {0.0}); }

NodeId OptimizerContext::stepNumber() {
  if (stepNode >= 0)
    return stepNode;
  NodeId t = stepLeaf(g);
  stepNode = b.binary(OpKind::Add, t, b.constant(1.0), "new.optimizer.step");
  update(t, stepNode);
  return stepNode;
}

Graph applyOptimizer(const Graph &g, const OptimizerSpec &spec) {
  Graph out = g;
  OptimizerContext c{out, Builder(out), spec, {}};
  for (NodeId p : g.leaves(OpKind::Param)) {
    const std::string name = "grad." + g[p].name;
    // The last output of that name: autodiff appends its outputs.
    auto it = std::find_if(out.outputs.rbegin(), out.outputs.rend(),
                           [&](const Output &o) { return o.name == name; });
    if (it == out.outputs.rend())
      continue; // no path to the loss: no update
    c.params.push_back({p, it->node});
    out.outputs.erase(std::next(it).base());
  }
  addClipGradNorm(c);
  switch (spec.kind) {
#define NN_OPTIMIZER(K, Name, Params, Example)                                 \
  case OptimizerSpec::Kind::K:                                                 \
    add##K##Updates(c);                                                        \
    break;
#include "ir/Optimizers.def"
  }
  // A dropout reads the step count: it advances even when the optimizer
  // does not read it.
  if (out.findLeaf(OpKind::State, kStepLeaf))
    c.stepNumber();
  return out;
}

} // namespace nn
