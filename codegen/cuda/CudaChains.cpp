//===- CudaChains.cpp - One kernel per parameter's updates ----------------===//
///
/// \file
/// The updates of one parameter form a chain (a fused.adam reading the
/// fused.adam_moment and fused.adam_variance of the same step, a fused.sgd
/// reading its fused.sgd_momentum). Besides one kernel per update, each
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

#include <algorithm>
#include <map>

namespace nn::cuda {

namespace {

/// The chains among the Update-family nodes of `g`: nodes joined when one
/// reads another (ascending, two or more members of one shape).
std::vector<std::vector<NodeId>> updateChains(const Graph &g) {
  std::map<NodeId, size_t> chainOf;
  std::vector<std::vector<NodeId>> chains;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (family(g[id].op) != OpFamily::Update)
      continue;
    size_t c = chains.size();
    for (NodeId in : g[id].inputs) {
      auto it = chainOf.find(in);
      if (it == chainOf.end() || it->second == c)
        continue;
      if (c == chains.size()) {
        c = it->second;
        continue;
      }
      // Reads two chains: merge the later into the earlier.
      size_t from = std::max(c, it->second), to = std::min(c, it->second);
      for (NodeId n : chains[from]) {
        chains[to].push_back(n);
        chainOf[n] = to;
      }
      chains[from].clear();
      c = to;
    }
    if (c == chains.size())
      chains.emplace_back();
    chains[c].push_back(id);
    chainOf[id] = c;
  }
  std::vector<std::vector<NodeId>> out;
  for (std::vector<NodeId> &c : chains) {
    std::sort(c.begin(), c.end());
    bool same = std::all_of(c.begin(), c.end(), [&](NodeId id) {
      return g[id].type.dims == g[c.back()].type.dims;
    });
    if (c.size() > 1 && same)
      out.push_back(std::move(c));
  }
  return out;
}

/// Whether operand `t` of update `n` is read once before the loop at index
/// 0, as printUpdate (CudaFused.cpp) reads it: the last operand, and every
/// scalar one of a tensor's update.
bool isHoisted(const Graph &g, const Node &n, size_t t) {
  return t + 1 == n.inputs.size() ||
         (g[n.inputs[t]].type.isScalar() && !n.type.isScalar());
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
      if (!member(g[chain[j]].inputs[t]) && isHoisted(g, g[chain[j]], t))
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
                     : operand(j, t, isHoisted(g, n, t) ? "0" : "i"));
    }
    value[j] = emitUpdate(math, nn::member<UpdateOp>(n.op),
                          std::span<const std::string>(args));
  }
  // Every load before the first store: a result may be in exactly the
  // slot of an operand (cudaLaunchList checks that it is nothing else).
  for (size_t j = 0; j < chain.size(); ++j)
    k.line("out" + std::to_string(j) + "[i] = " + value[j] + ";");
  k.close();
}

} // namespace

void printUpdateChains(const Graph &g, const std::vector<std::string> &names,
                       const CudaPrintOptions &opts, CudaSource &src) {
  for (const std::vector<NodeId> &chain : updateChains(g)) {
    NodeId last = chain.back();
    KernelWriter k(g, last, names[static_cast<size_t>(last)] + "_chain", opts);
    k.meta.members = chain;
    k.meta.loc = g[last].loc;
    NodePrinter text(g, PrintOptions{false});
    std::string sig = "extern \"C\" __global__ void __launch_bounds__(NN_BLOCK)"
                      "\n" + k.meta.name + "(";
    std::string head = "\n// One loop for the updates";
    for (size_t j = 0; j < chain.size(); ++j) {
      std::string nodeText = text(chain[j]);
      std::replace(nodeText.begin(), nodeText.end(), '\n', ' ');
      head += "\n//   " + nodeText;
      k.meta.nodeText += (j ? "; " : "") + nodeText;
      sig += (j ? ", float *out" : "float *out") + std::to_string(j);
      for (size_t t = 0; t < g[chain[j]].inputs.size(); ++t)
        sig += ", const float *in" + std::to_string(j) + "_" +
               std::to_string(t);
    }
    printChainLoop(k, chain);
    src.code += head + "\n";
    k.meta.firstLine =
        static_cast<int>(std::count(src.code.begin(), src.code.end(), '\n')) +
        1;
    src.code += sig + ", const long long batch) {\n" + k.body() + "}\n";
    k.meta.lastLine =
        static_cast<int>(std::count(src.code.begin(), src.code.end(), '\n'));
    src.kernels.push_back(k.meta);
  }
}

} // namespace nn::cuda
