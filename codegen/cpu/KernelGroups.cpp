//===- KernelGroups.cpp - Nodes that share one CPU kernel -----------------===//

#include "codegen/cpu/KernelGroups.h"
#include "codegen/cpu/Emit.h"

#include <algorithm>

namespace nn::cpu {

namespace {

/// The order the kernels of the non-leaf nodes run in: graph order, each
/// group's nodes moved to its last node's place.
std::vector<NodeId> runOrder(const Graph &g,
                             const std::vector<KernelGroup> &groups) {
  std::vector<int> gi = groupIndex(g, groups);
  std::vector<NodeId> order;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!inArena(g, id))
      continue;
    if (gi[id] < 0)
      order.push_back(id);
    else if (id == groups[gi[id]].nodes.back())
      order.insert(order.end(), groups[gi[id]].nodes.begin(),
                   groups[gi[id]].nodes.end());
  }
  return order;
}

/// Whether running the kernels in `order` against `plan` reads every value
/// intact: no buffer written between a value's definition and a use of it,
/// and outputs and update values intact at the end.
bool readsIntact(const Graph &g, const MemoryPlan &plan,
                 const std::vector<NodeId> &order) {
  std::vector<size_t> pos(g.nodes.size(), order.size());
  for (size_t t = 0; t < order.size(); ++t)
    pos[order[t]] = t;
  // Value v is intact just before step `at` (order.size(): at the end).
  auto intact = [&](NodeId v, size_t at) {
    if (!inArena(g, v))
      return true;
    if (pos[v] >= at)
      return false;
    for (size_t t = pos[v] + 1; t < at; ++t)
      if (overlaps(plan, order[t], v))
        return false;
    return true;
  };
  for (size_t t = 0; t < order.size(); ++t)
    for (NodeId in : g[order[t]].inputs)
      if (!intact(in, t))
        return false;
  for (const Output &o : g.outputs)
    if (!intact(o.node, order.size()))
      return false;
  for (const Update &u : g.updates)
    if (!intact(u.value, order.size()))
      return false;
  return true;
}

} // namespace

/// Whether the arena buffers of `a` and `b` (a != b) share a byte.
bool overlaps(const MemoryPlan &plan, NodeId a, NodeId b) {
  if (a == b || plan.offset[a] < 0 || plan.offset[b] < 0 ||
      plan.bytes[a] <= 0 || plan.bytes[b] <= 0)
    return false;
  return plan.offset[a] < plan.offset[b] + plan.bytes[b] &&
         plan.offset[b] < plan.offset[a] + plan.bytes[a];
}

/// The index of each node's group in `groups`, or -1.
std::vector<int> groupIndex(const Graph &g,
                            const std::vector<KernelGroup> &groups) {
  std::vector<int> gi(g.nodes.size(), -1);
  for (size_t i = 0; i < groups.size(); ++i)
    for (NodeId id : groups[i].nodes)
      gi[id] = static_cast<int>(i);
  return gi;
}

/// Whether a pair's results and its arena operands are pairwise disjoint
/// (its two nodes write while they both read). With `sameSlotOk`, a result
/// may also share exactly the slot (offset and size) of another buffer: in
/// loops split into the same index ranges, element i of both is touched by
/// one task only, in program order. An SGD group's loops run one
/// after another, so readsIntact suffices; its kernel's parameters are
/// noalias only where their buffers overlap no other's.
bool disjointBuffers(const Graph &g, const MemoryPlan &plan,
                     const KernelGroup &grp, bool sameSlotOk) {
  std::vector<NodeId> bufs = grp.nodes;
  for (NodeId id : grp.nodes)
    for (NodeId in : g[id].inputs)
      if (inArena(g, in))
        bufs.push_back(in);
  for (size_t i = 0; i < bufs.size(); ++i)
    for (size_t j = 0; j < grp.nodes.size() && j < i; ++j)
      if (bufs[i] != bufs[j] && overlaps(plan, bufs[i], bufs[j]) &&
          !(sameSlotOk && plan.offset[bufs[i]] == plan.offset[bufs[j]] &&
            plan.bytes[bufs[i]] == plan.bytes[bufs[j]]))
        return false;
  return true;
}

/// Whether `op` may be the weight-gradient half of a pair (isGradBiasPair):
/// fused.dense_grad_weight, or a fused.matmul x^T @ d.
static bool isWeightGradProduct(OpKind op) {
  if (family(op) != OpFamily::Dense)
    return false;
  DenseOp m = member<DenseOp>(op);
  return m == DenseOp::DenseGradWeight || m == DenseOp::FusedMatMul;
}

/// The kernel groups of `g` under `plan`: each weight gradient with its bias
/// gradient (isGradBiasPair), and all SGD updates, where moving their calls
/// to the group's last node keeps every read intact; the rest run alone.
std::vector<KernelGroup> findGroups(const Graph &g, const MemoryPlan &plan) {
  std::vector<KernelGroup> groups;
  std::vector<bool> taken(g.nodes.size(), false);
  auto tryAdd = [&](KernelGroup grp) {
    std::sort(grp.nodes.begin(), grp.nodes.end());
    std::vector<KernelGroup> with = groups;
    with.push_back(grp);
    if ((grp.weight >= 0 && !disjointBuffers(g, plan, grp, false)) ||
        !readsIntact(g, plan, runOrder(g, with)))
      return false;
    for (NodeId id : grp.nodes)
      taken[id] = true;
    groups.push_back(std::move(grp));
    return true;
  };
  for (NodeId w = 0; w < g.size(); ++w) {
    if (!isWeightGradProduct(g[w].op))
      continue;
    for (NodeId b = 0; b < g.size() && !taken[w]; ++b)
      if (!taken[b] && b != w && isGradBiasPair(g, w, b))
        tryAdd({w, {w, b}});
  }
  std::vector<NodeId> updates;
  for (NodeId id = 0; id < g.size(); ++id)
    if (family(g[id].op) == OpFamily::Update)
      updates.push_back(id);
  for (size_t i = 0; i < updates.size(); i += kUpdatesPerKernel) {
    KernelGroup sgd;
    sgd.index = static_cast<int>(i / kUpdatesPerKernel);
    sgd.nodes.assign(updates.begin() + static_cast<ptrdiff_t>(i),
                     updates.begin() + static_cast<ptrdiff_t>(std::min(
                                           updates.size(),
                                           i + kUpdatesPerKernel)));
    if (sgd.nodes.size() >= 2)
      tryAdd(sgd);
  }
  return groups;
}

std::string groupKernelName(const KernelGroup &grp,
                            const std::vector<std::string> &kernelNames,
                            const std::string &symbol) {
  if (grp.weight >= 0)
    return kernelNames[static_cast<size_t>(grp.weight)] + "_with_bias";
  return symbol + "_optimizer" +
         (grp.index ? "_" + std::to_string(grp.index + 1) : "");
}

} // namespace nn::cpu
