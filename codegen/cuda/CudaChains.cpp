//===- CudaChains.cpp - One kernel per parameter's updates ----------------===//
///
/// \file
/// The updates of one parameter form a chain (a fused.adam reading the
/// fused.adam_moment and fused.adam_variance of the same step, a fused.sgd
/// reading its fused.sgd_momentum), with the gradient they alone read (l2's
/// `2 lambda w + g`, passes/UpdateChains.h: computed in the loop from its
/// operands, never stored). Besides one kernel per node, each
/// chain gets one kernel that computes all its members in one grid-stride
/// loop: each element of every outside operand (w, g, m, v) loaded once,
/// the members' results (m', v') kept in registers for the later members,
/// every result stored once after the loads. Each member computes what its
/// own kernel would (emitUpdate, ir/FusedMath.h, with --fmad=false), so the
/// bits are those of the separate kernels. Whether a step launches it in
/// place of the members depends on the memory plan (cudaLaunchList,
/// CudaStep.cpp), known only at run time.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/FusedMath.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/UpdateChains.h"

#include <algorithm>
#include <map>

namespace nn::cuda {

namespace {

/// The chains among the update chain nodes of `g` (updateChainNodes):
/// two or more members of one shape.
std::vector<std::vector<NodeId>> updateChains(const Graph &g) {
  std::vector<std::vector<NodeId>> out;
  for (std::vector<NodeId> &c : chainsOf(g, updateChainNodes(g, true)))
    if (c.size() > 1 && sameShape(g, c))
      out.push_back(std::move(c));
  return out;
}

/// The loop of `chain`'s kernel, printed into `k` (the last member's).
void printChainLoop(KernelWriter &k, const std::vector<NodeId> &chain) {
  const Graph &g = k.g;
  CudaMath math{k};
  auto member = [&](NodeId id) {
    return std::find(chain.begin(), chain.end(), id) != chain.end();
  };
  // Operand t of member j: the member's value, an inlined constant, or one
  // load per (node, hoisted) of its first pointer.
  std::map<std::pair<NodeId, bool>, std::string> loaded;
  auto operand = [&](size_t j, size_t t, const std::string &idx) {
    NodeId in = g[chain[j]].inputs[t];
    const Node &n = g[in];
    if (n.op == OpKind::Const && n.values.size() == 1)
      return floatLit(n.values[0]);
    std::string at = idx == "0" ? "0" : "i";
    if (n.op == OpKind::Const)
      return "nn_c" + std::to_string(in) + "[" + at + "]";
    auto [it, fresh] = loaded.emplace(std::make_pair(in, idx == "0"), "");
    if (fresh) {
      it->second = k.fresh(idx == "0" ? "c" : "x");
      k.line("const float " + it->second + " = in" + std::to_string(j) + "_" +
             std::to_string(t) + "[" + at + "];");
    }
    return it->second;
  };
  for (size_t j = 0; j < chain.size(); ++j)
    for (size_t t = 0; t < g[chain[j]].inputs.size(); ++t)
      if (!member(g[chain[j]].inputs[t]) && isHoistedOperand(g, g[chain[j]], t))
        operand(j, t, "0");
  const std::vector<int64_t> &dims = k.node.type.dims;
  k.gridLoop("i", dims, 0, dims.size());
  std::vector<std::string> value(chain.size());
  for (size_t j = 0; j < chain.size(); ++j) {
    const Node &n = g[chain[j]];
    std::vector<std::string> args;
    for (size_t t = 0; t < n.inputs.size(); ++t) {
      auto pos = std::find(chain.begin(), chain.end(), n.inputs[t]);
      args.push_back(pos != chain.end() ? value[pos - chain.begin()]
                     : operand(j, t, isHoistedOperand(g, n, t) ? "0" : "i"));
    }
    value[j] = emitChainMember(math, n, std::span<const std::string>(args));
  }
  // Every load before the first store: a result may be in exactly the
  // slot of an operand (cudaLaunchList checks that it is nothing else). A
  // folded gradient, read by its update alone, is never stored.
  for (size_t j = 0; j < chain.size(); ++j)
    if (family(g[chain[j]].op) == OpFamily::Update)
      k.line("out" + std::to_string(j) + "[i] = " + value[j] + ";");
  k.close();
}

/// The kernel of sum `chain[1]` computing its operand `chain[0]`
/// (isFoldedIntoSum) as it sums: one block, as the sum's own kernel
/// (printReduce), each element's value printed as the operand's kernel
/// prints it, never stored.
void printFoldedSumLoop(KernelWriter &k, const std::vector<NodeId> &chain) {
  const Graph &g = k.g;
  const Node &e = g[chain[0]];
  CudaMath math{k};
  k.singleBlock();
  k.line("const long long n = " + k.numel(e.type) + ";");
  std::vector<std::string> scalar(e.inputs.size());
  for (size_t t = 0; t < e.inputs.size(); ++t) {
    const Node &n = g[e.inputs[t]];
    if (n.op == OpKind::Const && n.values.size() == 1)
      scalar[t] = floatLit(n.values[0]);
    else if (n.type.isScalar())
      k.line("const float " + (scalar[t] = k.fresh("c")) + " = " +
             (n.op == OpKind::Const ? "nn_c" + std::to_string(e.inputs[t])
                                    : "in0_" + std::to_string(t)) +
             "[0];");
  }
  k.line("double acc = 0.0;");
  k.open("for (long long i = threadIdx.x; i < n; i += NN_BLOCK)");
  std::vector<std::string> args;
  for (size_t t = 0; t < e.inputs.size(); ++t) {
    if (!scalar[t].empty()) {
      args.push_back(scalar[t]);
      continue;
    }
    std::string x = k.fresh("x");
    k.line("const float " + x + " = " +
           (g[e.inputs[t]].op == OpKind::Const
                ? "nn_c" + std::to_string(e.inputs[t])
                : "in0_" + std::to_string(t)) +
           "[i];");
    args.push_back(x);
  }
  k.line("acc += (double)" +
         emitChainMember(math, e, std::span<const std::string>(args)) + ";");
  k.close();
  k.line("acc = nn_block_sum(acc);");
  k.line(std::string("if (threadIdx.x == 0) out1[0] = (float)") +
         (g[chain[1]].op == OpKind::Mean ? "(acc / (double)n);" : "acc;"));
}

/// Appends the kernel of `chain`, named after its last member + `suffix`:
/// an update chain, or a sum with its folded operand.
void printChain(const Graph &g, const std::vector<std::string> &names,
                const CudaPrintOptions &opts, const std::vector<NodeId> &chain,
                const std::string &suffix, CudaSource &src) {
  NodeId last = chain.back();
  KernelWriter k(g, last, names[static_cast<size_t>(last)] + suffix, opts);
  k.meta.members = chain;
  k.meta.loc = g[last].loc;
  NodePrinter text(g, PrintOptions{false});
  std::string sig = "extern \"C\" __global__ void __launch_bounds__(NN_BLOCK)"
                    "\n" + k.meta.name + "(";
  std::string head = family(g[last].op) == OpFamily::Update
                         ? "\n// One loop for the updates"
                         : "\n// One loop for a sum and its operand";
  for (size_t j = 0; j < chain.size(); ++j) {
    std::string nodeText = text(chain[j]);
    std::replace(nodeText.begin(), nodeText.end(), '\n', ' ');
    head += "\n//   " + nodeText;
    k.meta.nodeText += (j ? "; " : "") + nodeText;
    sig += (j ? ", float *out" : "float *out") + std::to_string(j);
    for (size_t t = 0; t < g[chain[j]].inputs.size(); ++t)
      sig += ", const float *in" + std::to_string(j) + "_" + std::to_string(t);
  }
  if (family(g[last].op) == OpFamily::Update)
    printChainLoop(k, chain);
  else
    printFoldedSumLoop(k, chain);
  src.code += head + "\n";
  k.meta.firstLine =
      static_cast<int>(std::count(src.code.begin(), src.code.end(), '\n')) + 1;
  src.code += sig + ", const long long batch) {\n" + k.body() + "}\n";
  k.meta.lastLine =
      static_cast<int>(std::count(src.code.begin(), src.code.end(), '\n'));
  src.kernels.push_back(k.meta);
}

} // namespace

void printUpdateChains(const Graph &g, const std::vector<std::string> &names,
                       const CudaPrintOptions &opts, CudaSource &src) {
  for (const std::vector<NodeId> &chain : updateChains(g)) {
    std::vector<NodeId> updates;
    for (NodeId id : chain)
      if (family(g[id].op) == OpFamily::Update)
        updates.push_back(id);
    if (updates.size() == chain.size()) {
      printChain(g, names, opts, chain, "_chain", src);
      continue;
    }
    // With its folded gradients first: cudaLaunchList takes the first chain
    // the plan allows, else the updates' own chain, else the per-op kernels.
    printChain(g, names, opts, chain, "_grad_chain", src);
    if (updates.size() > 1)
      printChain(g, names, opts, updates, "_chain", src);
  }
  std::vector<int> uses = g.useCounts();
  for (NodeId id = 0; id < g.size(); ++id)
    if (isFoldedIntoSum(g, id, uses))
      printChain(g, names, opts, {id, foldedInto(g, id)}, "_with_operand",
                 src);
}

} // namespace nn::cuda
