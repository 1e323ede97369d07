//===- ExplainScalar.cpp - nnc explain --scalar: one step, in numbers ---===//
///
/// \file
/// One training step of a small model written out number by number
/// (runtime/ScalarStep) on the first batch of its data, in file order, from
/// the initial parameters; and the leaves of that step, which `nnc graph
/// --values` also runs.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Explain.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Dataset.h"
#include "runtime/LrSchedule.h"
#include "runtime/ParamInit.h"
#include "runtime/ScalarStep.h"
#include "runtime/Trainer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace nn {

namespace {

/// The first rows of the recipe's training split (after the validation
/// split), at most one batch and at most `maxRows` (-1: any).
std::vector<int64_t> firstBatchRows(const Recipe &r, int64_t size,
                                    int64_t maxRows) {
  auto [train, val] = splitValidation(size, r.validation, r.seed);
  if (train.empty())
    throw UserError("nnc: error: no training samples left for one step");
  std::vector<int64_t> rows(
      train.begin(),
      train.begin() +
          std::min<int64_t>(r.batch, static_cast<int64_t>(train.size())));
  if (maxRows >= 0 && static_cast<int64_t>(rows.size()) > maxRows)
    throw UserError(fmt::format(
        "nnc: error: explain --scalar writes out at most {} samples per "
        "step; the batch is {} (use --batch)",
        maxRows, rows.size()));
  return rows;
}

/// `[a, b, c]` (or `a` alone when `bracket` is false) of `n` values.
std::string valuesText(const double *v, int64_t n, bool bracket) {
  std::vector<std::string> parts;
  for (int64_t k = 0; k < n; ++k)
    parts.push_back(scalarText(v[k]));
  std::string s = fmt::format("{}", fmt::join(parts, ", "));
  return bracket ? "[" + s + "]" : s;
}

} // namespace

std::string scalarLeavesText(const Graph &g, const ValueMap &leaves, size_t rows) {
  std::string os = "\ninputs\n";
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op != OpKind::Input && n.op != OpKind::Label)
      continue;
    const Value &v = leaves.at(n.name);
    int64_t per = v.numel() / static_cast<int64_t>(rows);
    for (size_t i = 0; i < rows; ++i)
      os += fmt::format("  {}[{}] = {}\n", n.name, static_cast<char>('A' + i),
                        valuesText(v.data.data() + i * per, per, per > 1));
  }
  os += "parameters before the step\n";
  for (NodeId id : g.leaves(OpKind::Param)) {
    const Value &v = leaves.at(g[id].name);
    os += fmt::format("  {} = {}\n", g[id].name,
                      valuesText(v.data.data(), v.numel(), !v.shape.empty()));
  }
  return os;
}

std::string scalarStepText(const std::vector<ScalarLine> &lines,
                     const OptimizerSpec &opt) {
  bool adam = opt.kind != OptimizerSpec::Kind::Sgd;
  const char *names[] = {
      "forward", "loss", "backward",
      adam ? "update (Adam, step t: m = beta1 m + (1 - beta1) g, v = beta2 v "
             "+ (1 - beta2) g^2, w_new = w_old - lr / (1 - beta1^t) * m / "
             "(sqrt(v) / sqrt(1 - beta2^t) + eps))"
           : "update (w_new = w_old - lr * gradient)"};
  std::string os;
  int last = -1;
  for (const ScalarLine &l : lines) {
    int sec = static_cast<int>(l.section);
    if (sec != last)
      os += fmt::format("\n{}\n", names[sec]);
    last = sec;
    os += fmt::format("  {}\n", l.text);
  }
  return os;
}

ValueMap firstStepLeaves(const LoadedModel &m, const Graph &g, int64_t maxRows,
                         std::vector<int64_t> *rowsOut) {
  const Recipe &r = m.model.recipe;
  if (r.data.path.empty())
    throw UserError("nnc: error: one step needs training data: the model "
                    "names none (use --data)");
  Dataset data = loadData(r.data);
  Trainer(g, compileTo(m, Stage::Forward), r).checkData(data);
  std::vector<int64_t> rows = firstBatchRows(r, data.size(), maxRows);
  Dataset batch = selectRows(data, rows);
  TensorMap state = initState(g, r.seed);
  if (state.count(kLrLeaf)) // the first step's lr, as the trainer sets it
    state[kLrLeaf][0] = static_cast<float>(scheduledLr(r, 0, 0));
  ValueMap leaves;
  for (const auto &[name, t] : state)
    leaves[name] = toValue(t);
  for (const auto &[name, t] : bindBatch(g, batch.x, batch.y))
    leaves[name] = toValue(t);
  if (rowsOut)
    *rowsOut = rows;
  return leaves;
}

std::string explainScalar(const LoadedModel &m) {
  const Recipe &r = m.model.recipe;
  Graph g = compileTo(m, Stage::Fused);
  int64_t params = 0;
  for (NodeId id : g.leaves(OpKind::Param))
    params += g[id].type.numel();
  if (params > 64)
    throw UserError(fmt::format(
        "nnc: error: explain --scalar is for small models (at most 64 "
        "parameters); {} has {}: try 'nnc explain' for the equations per "
        "layer",
        g.name, withCommas(static_cast<double>(params))));

  ScalarLimits limits;
  std::vector<int64_t> rows;
  ValueMap leaves = firstStepLeaves(m, g, limits.maxBatch, &rows);
  std::vector<ScalarLine> lines = scalarStep(g, leaves, limits);
  std::string samples = "A";
  if (rows.size() > 1)
    samples += fmt::format("-{}", static_cast<char>('A' + rows.size() - 1));
  return fmt::format(
             "model {}  ({}): one training step as scalar arithmetic\n"
             "in the order of the fused graph (nnc emit --stage=fused), "
             "computed in double.\n"
             "batch: the first {} training rows of {} in file order (samples "
             "{}); indices are 1-based.\n",
             g.name, m.path, rows.size(), r.data.path, samples) +
         scalarLeavesText(g, leaves, rows.size()) +
         scalarStepText(lines, r.optimizer);
}

} // namespace nn
