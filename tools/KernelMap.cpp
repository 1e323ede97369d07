//===- KernelMap.cpp - Which fused kernel each IR node ended in -----------===//
///
/// \file
/// Algorithm: run the fusion passes on the opt graph without their final
/// DCE (they rewrite fusion roots in place, so node ids stay those of the
/// opt graph); the live nodes of the result are the kernels. A dead node
/// belongs to the live nodes that reach it through dead nodes, forward
/// kernels first and through forward nodes only, so that a backward kernel
/// does not claim the matmul of the forward layer whose output it reads.
///
//===----------------------------------------------------------------------===//

#include "tools/KernelMap.h"

#include "ir/Attributes.h"
#include "ir/ConvAffine.h"
#include "ir/Printer.h"

#include <algorithm>

namespace nn {

KernelMap::KernelMap(const Graph &opt, FusionLog &log) {
  Graph f = opt;
  for (const FusionInfo &fusion : fusionTable())
    f = fusion.pass(f, log);
  fused = f;
  std::vector<bool> live(f.size(), false);
  for (const Output &o : f.outputs)
    live[o.node] = true;
  for (const Update &u : f.updates)
    live[u.value] = true;
  for (NodeId id = f.size() - 1; id >= 0; --id)
    if (live[id])
      for (NodeId in : f[id].inputs)
        live[in] = true;
  // A dead node belongs to the live nodes that reach it through dead
  // nodes. Forward kernels claim first, and only forward nodes; a backward
  // kernel does not reach through a forward kernel's nodes (dense_grad
  // reads the activation, not the pre-activation sum it was made of).
  std::vector<bool> seeded(opt.size(), false);
  for (NodeId id = 0; id < opt.size(); ++id) {
    seeded[id] = opt[id].op == OpKind::Const &&
                 opt[id].name.rfind("d.", 0) == 0;
    for (NodeId in : opt[id].inputs)
      seeded[id] = seeded[id] || seeded[in];
  }
  owned.assign(opt.size(), {});
  std::vector<bool> forwardClaimed(opt.size(), false);
  NodeId shared = std::min(f.size(), opt.size());
  for (bool backward : {false, true})
    for (NodeId id = 0; id < shared; ++id) {
      if (!live[id] || hasTrait(f[id].op, kLeaf) || seeded[id] != backward)
        continue;
      owned[id].insert(id);
      std::vector<NodeId> stack(opt[id].inputs);
      std::set<NodeId> seen;
      while (!stack.empty()) {
        NodeId n = stack.back();
        stack.pop_back();
        if (n >= shared || live[n] || !seen.insert(n).second ||
            hasTrait(opt[n].op, kLeaf) || forwardClaimed[n] ||
            (!backward && seeded[n]))
          continue;
        owned[n].insert(id);
        stack.insert(stack.end(), opt[n].inputs.begin(),
                     opt[n].inputs.end());
      }
      if (!backward)
        for (NodeId n : seen)
          if (!live[n])
            forwardClaimed[n] = true;
    }
}

std::vector<NodeId> KernelMap::owners(NodeId id) const {
  if (id < 0 || id >= static_cast<NodeId>(owned.size()))
    return {};
  return {owned[id].begin(), owned[id].end()};
}

std::vector<std::string> KernelMap::kernels(NodeId id) const {
  std::vector<std::string> out;
  for (NodeId k : owners(id))
    out.push_back(kernelLabel(k));
  return out;
}

std::string KernelMap::kernelLabel(NodeId k) const {
  const Node &n = fused[k];
  std::string s = (n.name.empty() ? "%" + std::to_string(k) : "%" + n.name) +
                  " = " + mnemonic(n.op);
  // fused.dense always shows its act; a conv2d, its gradients and
  // channel_sum where fusion folded one in.
  // A conv2d with batch norm folded in (ir/ConvAffine.h) says where.
  std::string affine;
  if (n.op == OpKind::Conv2d && convOperands(n).hasAffine())
    affine = affineAfterAct(n) ? "affine = after" : "affine = before";
  if (carriesActivation(n.op) ||
      (takesActivation(n.op) && n.act != Activation::None))
    s += std::string(" {act = ") + activationName(n.act) +
         (carriesSlope(n) ? ", slope = " + formatDouble(n.param) : "") +
         (affine.empty() ? "" : ", " + affine) + "}";
  else if (!affine.empty())
    s += " {" + affine + "}";
  if (n.op == OpKind::FusedMatMul && (n.transA || n.transB))
    s += n.transA ? " {transA}" : " {transB}";
  return s;
}

} // namespace nn
