//===- Summary.cpp - nnc summary: a table of the layers ------------------===//
///
/// \file
/// A Keras-style table: one row per statement of the .nn file (nodes are
/// grouped by the source line they carry), with its output shape, its
/// parameters and its FLOPs per sample, forward and backward. Per-sample
/// FLOPs are the exact slope of the graph's cost in the batch size,
/// flops(N=2) - flops(N=1); what does not grow with the batch (the optimizer
/// update, the L2 term) is reported per step. A model with convolutions
/// gets a note on why 6 x params undercounts it (each conv weight is used
/// at every output position), with each conv layer's numbers.
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/MemoryPlan.h"
#include "tools/teach/Explain.h"
#include "tools/teach/LayerText.h"

#include <fmt/format.h>

#include <map>

namespace nn {

namespace {

struct Row {
  std::string name;
  std::string ops;
  std::string shape;
  int64_t params = 0;
  double fwd = 0;
  double bwd = 0;
};

double perSample(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 2) - nodeFlops(g, id, 1);
}

/// Nodes grouped by source line, in line order (line 0: no location).
std::map<int, std::vector<NodeId>> byLine(const Graph &g) {
  std::map<int, std::vector<NodeId>> lines;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g[id].op != OpKind::Const && g[id].op != OpKind::State)
      lines[g[id].loc.line].push_back(id);
  return lines;
}

/// The nodes whose only purpose is a graph update of the forward graph
/// (batch norm's running statistics): the update values and what only
/// they use.
std::vector<bool> updateOnly(const Graph &g) {
  std::vector<bool> only(g.size(), false);
  std::vector<int> users(g.size(), 0), onlyUsers(g.size(), 0);
  for (const Update &u : g.updates)
    only[u.value] = true;
  for (NodeId id = 0; id < g.size(); ++id)
    for (NodeId in : g[id].inputs)
      ++users[in];
  for (NodeId id = g.size() - 1; id >= 0; --id) {
    if (!only[id] && users[id] > 0 && onlyUsers[id] == users[id] &&
        !hasTrait(g[id].op, kLeaf))
      only[id] = true;
    if (only[id])
      for (NodeId in : g[id].inputs)
        ++onlyUsers[in];
  }
  return only;
}

/// One row per source line of the forward graph; the backward FLOPs of a
/// line are those of its nodes in the grad graph less the forward ones. A
/// row is named by its last node that is not a running statistic, and
/// lists the ops of the running statistics as "running stats".
std::vector<Row> summaryRows(const Graph &fwd, const Graph &grad,
                             double &perStep) {
  std::map<int, double> gradFlops;
  perStep = 0;
  for (NodeId id = 0; id < grad.size(); ++id) {
    gradFlops[grad[id].loc.line] += perSample(grad, id);
    perStep += nodeFlops(grad, id, 1) - perSample(grad, id);
  }
  std::vector<Row> rows;
  std::vector<bool> stats = updateOnly(fwd);
  for (const auto &[line, ids] : byLine(fwd)) {
    Row r;
    NodeId last = ids.back();
    bool hasStats = false;
    for (NodeId id : ids) {
      hasStats = hasStats || stats[id];
      if (!stats[id])
        last = id;
    }
    for (NodeId id : ids) {
      const Node &n = fwd[id];
      if (n.op == OpKind::Param) {
        if (!n.buffer) // running statistics are not parameters (PyTorch's)
          r.params += n.type.numel();
        continue;
      }
      if (!hasTrait(n.op, kLeaf) && !stats[id])
        r.ops += std::string(r.ops.empty() ? "" : "+") + mnemonic(n.op);
      r.fwd += perSample(fwd, id);
    }
    if (hasStats)
      r.ops += "+running stats";
    const Node &ln = fwd[last];
    r.name = ln.name.empty() ? (line ? "line " + std::to_string(line) : "-")
                             : ln.name;
    if (auto loss = fwd.output("loss"); loss && *loss == last)
      r.name = "loss";
    if (r.ops.empty())
      r.ops = mnemonic(ln.op);
    r.shape = ln.type.str();
    r.bwd = gradFlops[line] - r.fwd;
    rows.push_back(r);
  }
  return rows;
}

const size_t w0 = 28, w1 = 16, w2 = 12, w3 = 16, w4 = 16;

/// The table: a header, one line per row, the totals.
std::string tableText(const std::vector<Row> &rows, int64_t &params, double &f,
                      double &b) {
  std::string rule(w0 + w1 + w2 + w3 + w4, '-');
  std::string os = rule + "\n" + column("layer (ops)", w0) +
                   column("output shape", w1) + columnRight("params", w2) +
                   columnRight("fwd FLOPs/smp", w3) +
                   columnRight("bwd FLOPs/smp", w4) + "\n" + rule + "\n";
  params = 0;
  f = b = 0;
  for (const Row &r : rows) {
    os += column(r.name + " (" + r.ops + ")", w0) + column(r.shape, w1) +
          columnRight(withCommas(static_cast<double>(r.params)), w2) +
          columnRight(withCommas(r.fwd), w3) +
          columnRight(withCommas(r.bwd), w4) + "\n";
    params += r.params;
    f += r.fwd;
    b += r.bwd;
  }
  return os + rule + "\n" + column("total", w0 + w1) +
         columnRight(withCommas(static_cast<double>(params)), w2) +
         columnRight(withCommas(f), w3) + columnRight(withCommas(b), w4) +
         "\n" + rule + "\n";
}

/// The arena of one training step at the recipe's batch, unfused and fused.
std::string arenaText(const LoadedModel &m) {
  int64_t batch = m.model.recipe.batch;
  auto bytes = [&](Stage s) {
    return withCommas(
        static_cast<double>(planMemory(compileTo(m, s), batch).arenaBytes));
  };
  return fmt::format("arena, batch {}:       {} bytes unfused, {} fused (one "
                     "training step)\n",
                     batch, bytes(Stage::Opt), bytes(Stage::Fused));
}

} // namespace

std::string summaryText(const LoadedModel &m) {
  Graph fwd = compileTo(m, Stage::Forward);
  Graph grad = compileTo(m, Stage::Grad);
  double perStep = 0, f = 0, b = 0;
  int64_t params = 0;
  std::vector<Row> rows = summaryRows(fwd, grad, perStep);
  std::string table = tableText(rows, params, f, b);
  double rule6 = 6.0 * static_cast<double>(params);
  std::string os = fmt::format(
      "model {}  ({})\n{}parameters:             {}\n"
      "training FLOPs/sample:  {} (forward {} + backward {})\n"
      "6 x params rule:        {}",
      fwd.name, m.path, table, withCommas(static_cast<double>(params)),
      withCommas(f + b), withCommas(f), withCommas(b), withCommas(rule6));
  if (rule6 > 0)
    os += fmt::format(" (exact count / rule = {:.3f})", (f + b) / rule6);
  os += fmt::format("\nper step, any batch:    {} FLOPs (optimizer "
                    "update and L2)\n",
                    withCommas(perStep)) +
        arenaText(m);
  std::string conv = convReuseText(fwd, "");
  if (conv.empty())
    return os + "FLOPs: 2 per multiply-add, 1 per elementwise op; the first "
                "layer needs no input gradient,\nso the exact count is below "
                "6 x params plus the elementwise work.\n";
  return os + "FLOPs: 2 per multiply-add, 1 per elementwise op.\n" + conv +
         fmt::format("6 x params x samples is {:.1f} x too low for this "
                     "model: {} FLOPs/sample exact, {} by the rule.\n",
                     (f + b) / rule6, withCommas(f + b), withCommas(rule6));
}

} // namespace nn
