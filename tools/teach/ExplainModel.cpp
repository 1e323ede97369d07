//===- ExplainModel.cpp - nnc explain: the equations per layer ------------===//
///
/// \file
/// Backprop as the compiler derived it, statement by statement. The
/// equations are read off the graph after autodiff, CSE and DCE (the nodes
/// of `nnc emit --stage=opt`, tools/teach/Equations.h). Each equation lists
/// the IR nodes it covers, the fused kernel(s) they ended up in (the fusion
/// passes run without their final DCE, so node ids still match), and FLOPs
/// per sample from passes/FlopCount. A dense layer, a layer_norm, a
/// convolution, a pooling, a batch norm and a loss get their textbook
/// equations first (tools/teach/LayerText.h); the totals compare the exact
/// count with the 6 x params x samples rule, and say why a convolution's
/// count is far above it.
///
//===----------------------------------------------------------------------===//

#include "tools/KernelMap.h"
#include "tools/teach/Equations.h"
#include "tools/teach/Explain.h"
#include "tools/teach/LayerText.h"
#include "tools/teach/SourceLine.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/Fuse.h"
#include "runtime/Dataset.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace nn {

namespace {

double perSample(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 2) - nodeFlops(g, id, 1);
}
double perStep(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 1) - perSample(g, id);
}

/// FLOPs and multiply-adds per sample by phase, and per step.
struct Totals {
  double macs[3] = {0, 0, 0}, flops[3] = {0, 0, 0}, stepFlops = 0;
  int64_t params = 0, weights = 0;
};

std::string flopsText(double smp, double step) {
  auto flops = [](double v) { return v == 1 ? " FLOP" : " FLOPs"; };
  if (smp > 0)
    return withCommas(smp) + flops(smp) + "/sample";
  if (step > 0)
    return withCommas(step) + flops(step) + "/step";
  return "0 FLOPs";
}

/// Training samples per epoch from the recipe's data, or a reason.
int64_t trainingSamples(const LoadedModel &m, std::string &why) {
  const Recipe &r = m.model.recipe;
  if (r.data.path.empty()) {
    why = "the model names no training data";
    return -1;
  }
  try {
    Dataset d = loadData(r.data);
    auto [train, val] = splitValidation(d.size(), r.validation, r.seed);
    return static_cast<int64_t>(train.size());
  } catch (const UserError &e) {
    why = e.what();
    return -1;
  }
}

/// The equation of `id` (three lines: equation, IR nodes, kernels); adds
/// its FLOPs to `t`.
std::string equationText(const Graph &opt, const Equations &eq,
                         const KernelMap &kernels, NodeId id, Totals &t) {
  int ph = static_cast<int>(eq.phaseOf(id));
  double smp = 0, step = 0;
  std::vector<std::string> irs, ks;
  for (NodeId c : eq.covered(id)) {
    smp += perSample(opt, c);
    step += perStep(opt, c);
    if (opt[c].op == OpKind::MatMul)
      t.macs[ph] += perSample(opt, c) / 2;
    t.macs[ph] += convMultiplyAdds(opt, c);
    irs.push_back(fmt::format(
        "%{} ({})", opt[c].name.empty() ? std::to_string(c) : opt[c].name,
        mnemonic(opt[c].op)));
    for (const std::string &k : kernels.kernels(c))
      if (std::find(ks.begin(), ks.end(), k) == ks.end())
        ks.push_back(k);
  }
  t.flops[ph] += smp;
  t.stepFlops += step;
  return fmt::format("    {} {} {}\n        IR: {}\n        kernel: {}\n",
                     column(eq.ref(id) + " = " + eq.rhs(id), 46),
                     column(opt[id].type.str(), 12), flopsText(smp, step),
                     fmt::join(irs, ", "),
                     ks.empty() ? "(none)"
                                : fmt::format("{}", fmt::join(ks, ", ")));
}

/// One source line: its text, the layer's textbook equations, then its
/// equations by phase in graph order.
std::string lineText(const LoadedModel &m, const Graph &opt,
                     const Equations &eq, const KernelMap &kernels, int line,
                     const std::vector<NodeId> &ids, Totals &t) {
  std::string os =
      "\n" +
      (line ? fmt::format("line {}: {}", line, sourceLine(m.text, line))
            : std::string("(no source line)")) +
      "\n";
  os += denseLayerText(opt, ids, m.model.recipe.l2) + layerNormText(opt, ids) +
        convLayerText(opt, ids, m.model.recipe.l2) + poolText(opt, ids) +
        batchNormText(opt, ids) + lossText(opt, ids);
  for (Phase ph : {Phase::Forward, Phase::Backward, Phase::Update}) {
    bool header = false;
    for (NodeId id : ids) {
      if (!eq.isRoot(id) || eq.phaseOf(id) != ph)
        continue;
      if (!header)
        os += fmt::format("  {}\n", phaseName(ph));
      header = true;
      os += equationText(opt, eq, kernels, id, t);
    }
  }
  return os;
}

std::string totalsText(const Totals &t) {
  double fwd = t.flops[0], bwd = t.flops[1] + t.flops[2];
  return fmt::format(
      "\ntotals per sample\n"
      "  forward:   {} FLOPs = 2 x {} multiply-adds + {} elementwise "
      "(biases, activations, loss)\n"
      "  backward:  {} FLOPs = 2 x {} multiply-adds + {} elementwise\n"
      "  training:  {} FLOPs per sample\n"
      "  per step, any batch: {} FLOPs (optimizer update and L2)\n",
      withCommas(fwd), withCommas(t.macs[0]), withCommas(fwd - 2 * t.macs[0]),
      withCommas(bwd), withCommas(t.macs[1]), withCommas(bwd - 2 * t.macs[1]),
      withCommas(fwd + bwd), withCommas(t.stepFlops));
}

/// The exact FLOPs of an epoch beside 6 x params x samples.
std::string epochText(const LoadedModel &m, const Totals &t, int64_t samples) {
  std::string why;
  if (samples < 0)
    samples = trainingSamples(m, why);
  if (samples < 0)
    return fmt::format("\nper epoch: unknown ({})\n", why);
  int64_t batch = m.model.recipe.batch;
  double perSmp = t.flops[0] + t.flops[1] + t.flops[2];
  double n = static_cast<double>(samples);
  int64_t steps = (samples + batch - 1) / batch;
  double exact = perSmp * n + t.stepFlops * static_cast<double>(steps);
  double ruleEpoch = 6.0 * static_cast<double>(t.params) * n;
  std::string os = fmt::format(
      "\nper epoch ({} training samples, batch {}: {} step{})\n"
      "  exact:     {} x {} + {} x {} = {} FLOPs\n"
      "  6 x params x samples: 6 x {} x {} = {} FLOPs",
      withCommas(n), batch, steps, steps == 1 ? "" : "s", withCommas(perSmp),
      withCommas(n), withCommas(t.stepFlops), steps, withCommas(exact),
      withCommas(static_cast<double>(t.params)), withCommas(n),
      withCommas(ruleEpoch));
  if (ruleEpoch > 0)
    os += fmt::format(" (exact / rule = {:.3f})", exact / ruleEpoch);
  return os + "\n";
}

/// Why the rule differs: 2 MACs per weight forward, 4 backward (dW and dX);
/// a convolution's weights are used at every output position.
std::string ruleText(const Graph &opt, const Totals &t) {
  double fwdMacs = t.macs[0], bwdMacs = t.macs[1], ruleBwdMacs = 2 * fwdMacs;
  std::string os = fmt::format(
      "\nwhy the exact count differs from 6 x params:\n"
      "  the rule counts one multiply-add per weight forward (2 FLOPs) and "
      "two backward (dW and dX: 4 FLOPs).\n"
      "  forward multiply-adds: {} per sample{}.\n"
      "  backward multiply-adds: {}, not 2 x {} = {}: ",
      withCommas(fwdMacs),
      fwdMacs == static_cast<double>(t.weights) ? ", one per weight" : "",
      withCommas(bwdMacs), withCommas(fwdMacs), withCommas(ruleBwdMacs));
  if (bwdMacs < ruleBwdMacs)
    os += withCommas(ruleBwdMacs - bwdMacs) +
          " fewer, because the gradient of an input (dX of the first layer) "
          "is never computed.\n";
  else
    os += "no input gradient is left out.\n";
  os += convReuseText(opt, "  ");
  return os + "  the rule also leaves out the elementwise work (biases, "
              "activations, loss, update), and counts\n"
              "  biases as if they were multiplied.\n";
}

} // namespace

std::string explainModel(const LoadedModel &m, int64_t samples) {
  Graph opt = compileTo(m, Stage::Opt);
  FusionLog log;
  KernelMap kernels(opt, log);
  Equations eq(opt);
  std::string os = fmt::format(
      "model {}  ({})\nN = batch size ({} in the recipe). Equations as "
      "autodiff derived them (nnc emit --stage=opt);\n"
      "FLOPs: 2 per multiply-add, 1 per elementwise op, per sample unless "
      "marked per step.\n",
      opt.name, m.path, m.model.recipe.batch);

  // Equations by source line, then phase, in graph order.
  std::map<int, std::vector<NodeId>> lines;
  for (NodeId id = 0; id < opt.size(); ++id)
    if (!hasTrait(opt[id].op, kLeaf))
      lines[opt[id].loc.line].push_back(id);
  Totals t;
  for (NodeId id : opt.leaves(OpKind::Param)) {
    if (opt[id].buffer) // running statistics: not parameters (PyTorch's)
      continue;
    t.params += opt[id].type.numel();
    if (opt[id].isWeight)
      t.weights += opt[id].type.numel();
  }
  for (const auto &[line, ids] : lines)
    os += lineText(m, opt, eq, kernels, line, ids, t);
  return os + totalsText(t) + epochText(m, t, samples) + ruleText(opt, t);
}

} // namespace nn
