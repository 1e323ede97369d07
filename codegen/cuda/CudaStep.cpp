//===- CudaStep.cpp - Where a CUDA step keeps each value ------------------===//

#include "codegen/cuda/CudaStep.h"

#include "ir/Support.h"

#include <algorithm>

namespace nn {

CudaPlace cudaPlaceOf(const Graph &g, const CudaSource &src,
                      const MemoryPlan &plan, NodeId id) {
  CudaPlace p;
  if (src.inPlace[id] >= 0) { // an update computed into its leaf
    p.kind = CudaPlace::Leaf;
    p.leaf = src.inPlace[id];
    return p;
  }
  const Node &n = g[id];
  if (n.op == OpKind::Const && n.values.size() <= 1) {
    p.kind = CudaPlace::Inlined;
    return p;
  }
  if (hasTrait(n.op, kLeaf)) {
    p.kind = CudaPlace::Leaf;
    p.leaf = id;
    return p;
  }
  NN_ASSERT(plan.offset[id] >= 0,
            "node %" + std::to_string(id) + " has no buffer in the plan");
  p.offset = plan.offset[id];
  return p;
}

CudaUpdateCopy cudaUpdateCopy(const Graph &g, const CudaSource &src,
                              const Update &u) {
  const Node &value = g[u.value];
  if (value.op == OpKind::Const && value.values.size() == 1)
    return CudaUpdateCopy::Fill;
  NN_ASSERT(value.op != OpKind::Param && value.op != OpKind::State,
            "an update whose value is a parameter or state leaf");
  return src.inPlace[u.value] == u.target ? CudaUpdateCopy::None
                                          : CudaUpdateCopy::Copy;
}

std::vector<NodeId> cudaKernelArgs(const Graph &g, const CudaKernel &k) {
  std::vector<NodeId> args;
  std::vector<NodeId> one{k.node};
  for (NodeId id : k.members.empty() ? one : k.members) {
    args.push_back(id);
    args.insert(args.end(), g[id].inputs.begin(), g[id].inputs.end());
  }
  return args;
}

namespace {

enum class Overlap { None, SameSlot, Partial };

/// How the buffers of `a` and `b` (a != b) meet during a step.
Overlap overlapOf(const Graph &g, const CudaSource &src, const MemoryPlan &plan,
                  NodeId a, NodeId b) {
  CudaPlace pa = cudaPlaceOf(g, src, plan, a), pb = cudaPlaceOf(g, src, plan, b);
  if (pa.kind != pb.kind || pa.kind == CudaPlace::Inlined)
    return Overlap::None;
  if (pa.kind == CudaPlace::Leaf)
    return pa.leaf == pb.leaf ? Overlap::SameSlot : Overlap::None;
  int64_t ea = pa.offset + plan.bytes[a], eb = pb.offset + plan.bytes[b];
  if (ea <= pb.offset || eb <= pa.offset)
    return Overlap::None;
  return pa.offset == pb.offset && ea == eb ? Overlap::SameSlot
                                            : Overlap::Partial;
}

/// Whether chain kernel `k` may run in place of its members (see
/// cudaLaunchList).
bool chainFits(const Graph &g, const CudaSource &src, const MemoryPlan &plan,
               const CudaKernel &k) {
  const std::vector<NodeId> &chain = k.members;
  auto isMember = [&](NodeId id) {
    return std::find(chain.begin(), chain.end(), id) != chain.end();
  };
  std::vector<NodeId> bufs = cudaKernelArgs(g, k);
  for (NodeId r : chain)
    for (NodeId b : bufs)
      if (b != r && overlapOf(g, src, plan, r, b) == Overlap::Partial)
        return false;
  for (NodeId x = chain.front() + 1; x < chain.back(); ++x) {
    if (isMember(x) || hasTrait(g[x].op, kLeaf))
      continue;
    for (NodeId in : g[x].inputs)
      if (isMember(in))
        return false;
    for (NodeId b : bufs)
      if (b != x && overlapOf(g, src, plan, x, b) != Overlap::None)
        return false;
  }
  return true;
}

} // namespace

std::vector<size_t> cudaLaunchList(const Graph &g, const CudaSource &src,
                                   const MemoryPlan &plan) {
  // Per node: the chain kernel that computes it, or -1.
  std::vector<long> chainOf(g.size(), -1);
  for (size_t i = 0; i < src.kernels.size(); ++i) {
    const CudaKernel &k = src.kernels[i];
    // The first chain that fits: one with folded gradients comes before
    // its updates' own (printUpdateChains).
    if (!k.members.empty() && chainFits(g, src, plan, k) &&
        std::all_of(k.members.begin(), k.members.end(),
                    [&](NodeId id) { return chainOf[id] < 0; }))
      for (NodeId id : k.members)
        chainOf[id] = static_cast<long>(i);
  }
  std::vector<size_t> list;
  for (size_t i = 0; i < src.kernels.size(); ++i) {
    const CudaKernel &k = src.kernels[i];
    if (!k.members.empty())
      continue;
    long c = chainOf[k.node];
    if (c < 0)
      list.push_back(i);
    else if (src.kernels[static_cast<size_t>(c)].node == k.node)
      list.push_back(static_cast<size_t>(c));
  }
  return list;
}

} // namespace nn
