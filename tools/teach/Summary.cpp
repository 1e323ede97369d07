//===- Summary.cpp - nnc summary: a table of the layers --------------------===//
///
/// \file
/// A Keras-style table: one row per statement of the .nn file (nodes are
/// grouped by the source line they carry), with its output shape, its
/// parameters and its FLOPs per sample, forward and backward. Per-sample
/// FLOPs are the exact slope of the graph's cost in the batch size,
/// flops(N=2) - flops(N=1); what does not grow with the batch (the optimizer
/// update, the L2 term) is reported per step.
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/MemoryPlan.h"
#include "tools/teach/Explain.h"

#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

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

} // namespace

std::string summaryText(const LoadedModel &m) {
  Graph fwd = compileTo(m, Stage::Forward);
  Graph grad = compileTo(m, Stage::Grad);

  std::map<int, double> gradFlops;
  double perStep = 0;
  for (NodeId id = 0; id < grad.size(); ++id) {
    gradFlops[grad[id].loc.line] += perSample(grad, id);
    perStep += nodeFlops(grad, id, 1) - perSample(grad, id);
  }

  std::vector<Row> rows;
  for (const auto &[line, ids] : byLine(fwd)) {
    Row r;
    NodeId last = ids.back();
    for (NodeId id : ids) {
      const Node &n = fwd[id];
      if (n.op == OpKind::Param) {
        r.params += n.type.numel();
        continue;
      }
      if (!hasTrait(n.op, kLeaf))
        r.ops += std::string(r.ops.empty() ? "" : "+") + mnemonic(n.op);
      r.fwd += perSample(fwd, id);
    }
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

  const size_t w0 = 28, w1 = 16, w2 = 12, w3 = 16, w4 = 16;
  std::ostringstream os;
  std::string rule(w0 + w1 + w2 + w3 + w4, '-');
  os << "model " << fwd.name << "  (" << m.path << ")\n"
     << rule << "\n"
     << column("layer (ops)", w0) << column("output shape", w1)
     << columnRight("params", w2) << columnRight("fwd FLOPs/smp", w3)
     << columnRight("bwd FLOPs/smp", w4) << "\n"
     << rule << "\n";
  int64_t params = 0;
  double f = 0, b = 0;
  for (const Row &r : rows) {
    os << column(r.name + " (" + r.ops + ")", w0) << column(r.shape, w1)
       << columnRight(withCommas(static_cast<double>(r.params)), w2)
       << columnRight(withCommas(r.fwd), w3)
       << columnRight(withCommas(r.bwd), w4) << "\n";
    params += r.params;
    f += r.fwd;
    b += r.bwd;
  }
  double rule6 = 6.0 * static_cast<double>(params);
  os << rule << "\n"
     << column("total", w0 + w1)
     << columnRight(withCommas(static_cast<double>(params)), w2)
     << columnRight(withCommas(f), w3) << columnRight(withCommas(b), w4) << "\n"
     << rule << "\n"
     << "parameters:             " << withCommas(static_cast<double>(params))
     << "\n"
     << "training FLOPs/sample:  " << withCommas(f + b) << " (forward "
     << withCommas(f) << " + backward " << withCommas(b) << ")\n"
     << "6 x params rule:        " << withCommas(rule6);
  if (rule6 > 0)
    os << " (exact count / rule = " << std::fixed << std::setprecision(3)
       << (f + b) / rule6 << ")";
  os << "\n"
     << "per step, any batch:    " << withCommas(perStep)
     << " FLOPs (optimizer update and L2)\n"
     << "arena, batch " << m.model.recipe.batch << ":       "
     << withCommas(static_cast<double>(
            planMemory(compileTo(m, Stage::Opt), m.model.recipe.batch)
                .arenaBytes))
     << " bytes unfused, "
     << withCommas(static_cast<double>(
            planMemory(compileTo(m, Stage::Fused), m.model.recipe.batch)
                .arenaBytes))
     << " fused (one training step)\n"
     << "FLOPs: 2 per multiply-add, 1 per elementwise op; the first layer "
        "needs no input gradient,\nso the exact count is below 6 x params "
        "plus the elementwise work.\n";
  return os.str();
}

} // namespace nn
