//===- GraphDot.cpp - The graph of a stage, for nnc graph -----------------===//
///
/// \file
/// forward is the lowered model with the loss; grad adds the backward pass
/// and the update (after autodiff); fused draws the training graph after
/// CSE and DCE with each fused kernel as a cluster (the nodes it computes
/// in one loop); eval draws the evaluation graph (passes/EvalForm.h: batch
/// norm on its running statistics, one channel affine) with its kernels,
/// a batch norm folded into its convolution's cluster. With values, one training step runs on the reference
/// interpreter (first batch in file order, initial parameters) and each
/// node's value and gradient go into its label.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Explain.h"
#include "tools/teach/Graphviz.h"

#include "passes/EvalForm.h"

namespace nn {

std::string graphDot(const LoadedModel &m, const std::string &stage,
                     bool values) {
  const bool evalStage = stage == "eval";
  Stage s = stage == "forward" || evalStage ? Stage::Forward
            : stage == "grad"               ? Stage::Grad
                                            : Stage::Opt;
  Graph g = evalStage ? evalForm(compileTo(m, s)) : compileTo(m, s);
  FusionLog log;
  std::optional<KernelMap> kernels;
  DotOptions opts;
  opts.sourceText = m.text;
  opts.sourcePath = m.path;
  if (stage == "fused" || evalStage) {
    kernels.emplace(g, log);
    opts.kernels = &*kernels;
  }
  std::vector<Value> vals;
  ValueMap grads;
  if (values) {
    // Gradients come from the training graph (the forward graph has none).
    Graph step = s == Stage::Forward ? compileTo(m, Stage::Opt) : g;
    ValueMap leaves = firstStepLeaves(m, step, -1, nullptr);
    std::vector<Value> stepVals = Interpreter(step).run(leaves);
    for (NodeId id = 0; id < step.size(); ++id)
      if (step[id].name.rfind("d.", 0) == 0 && !stepVals[id].data.empty())
        grads[step[id].name.substr(2)] = stepVals[id];
    if (s == Stage::Forward) {
      ValueMap fwdLeaves;
      for (NodeId id = 0; id < g.size(); ++id)
        if (hasTrait(g[id].op, kLeaf) && g[id].op != OpKind::Const)
          fwdLeaves[g[id].name] = leaves.at(g[id].name);
      vals = Interpreter(g).run(fwdLeaves);
    } else {
      vals = stepVals;
    }
    opts.values = &vals;
    opts.gradients = &grads;
  }
  return graphToDot(g, opts);
}

} // namespace nn
