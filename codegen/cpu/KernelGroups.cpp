//===- KernelGroups.cpp - Nodes that share one CPU kernel -----------------===//

#include "codegen/cpu/KernelGroups.h"
#include "codegen/cpu/Emit.h"
#include "passes/UpdateChains.h"

#include <algorithm>
#include <map>

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
      if (inArena(g, in) && !copiesScalar(g, grp, in))
        bufs.push_back(in);
  for (size_t i = 0; i < bufs.size(); ++i)
    for (size_t j = 0; j < grp.nodes.size() && j < i; ++j)
      if (bufs[i] != bufs[j] && overlaps(plan, bufs[i], bufs[j]) &&
          !(sameSlotOk && plan.offset[bufs[i]] == plan.offset[bufs[j]] &&
            plan.bytes[bufs[i]] == plan.bytes[bufs[j]]))
        return false;
  return true;
}

bool copiesScalar(const Graph &g, const KernelGroup &grp, NodeId in) {
  return grp.weight < 0 && grp.reduce < 0 && inArena(g, in) &&
         g[in].type.isScalar() &&
         std::find(grp.nodes.begin(), grp.nodes.end(), in) == grp.nodes.end();
}

/// Whether the chains may run one loop each, in any order: every result
/// apart from the group's other buffers, or in the slot of one that only
/// its own chain uses.
bool chainsApart(const Graph &g, const std::vector<std::vector<NodeId>> &chains,
                 const OverlapFn &overlap) {
  std::map<NodeId, size_t> owner; // chain of each node and operand; -1: many
  auto own = [&](NodeId id, size_t c) {
    auto [it, fresh] = owner.emplace(id, c);
    if (!fresh && it->second != c)
      it->second = static_cast<size_t>(-1);
  };
  for (size_t c = 0; c < chains.size(); ++c)
    for (NodeId id : chains[c]) {
      own(id, c);
      for (NodeId in : g[id].inputs)
        own(in, c);
    }
  for (size_t c = 0; c < chains.size(); ++c)
    for (NodeId r : chains[c])
      for (auto [b, bc] : owner) {
        Overlap o = b == r ? Overlap::None : overlap(r, b);
        if (o == Overlap::Partial || (o == Overlap::SameSlot && bc != c))
          return false;
      }
  return true;
}

Overlap planOverlap(const Graph &g, const MemoryPlan &plan,
                    const KernelGroup &grp, NodeId a, NodeId b) {
  // Leaves (and results written into them in place) are outside the arena.
  if (!inArena(g, a) || !inArena(g, b) || !overlaps(plan, a, b) ||
      copiesScalar(g, grp, a) || copiesScalar(g, grp, b))
    return Overlap::None;
  return plan.offset[a] == plan.offset[b] && plan.bytes[a] == plan.bytes[b]
             ? Overlap::SameSlot
             : Overlap::Partial;
}

/// Whether `op` may be the weight-gradient half of a pair (isGradBiasPair):
/// fused.dense_grad_weight, or a fused.matmul x^T @ d.
static bool isWeightGradProduct(OpKind op) {
  if (family(op) != OpFamily::Dense)
    return false;
  DenseOp m = member<DenseOp>(op);
  return m == DenseOp::DenseGradWeight || m == DenseOp::FusedMatMul;
}

/// Whether every node that reads `id` is in `nodes` (ascending).
static bool allUsersIn(const Graph &g, NodeId id,
                       const std::vector<NodeId> &nodes) {
  for (NodeId u = id + 1; u < g.size(); ++u)
    if (std::count(g[u].inputs.begin(), g[u].inputs.end(), id) &&
        !std::binary_search(nodes.begin(), nodes.end(), u))
      return false;
  return true;
}

/// Whether update group `grp`'s chains run one loop each under `plan`.
static bool oneLoopEach(const Graph &g, const MemoryPlan &plan,
                        const KernelGroup &grp) {
  return chainsApart(g, chainsOf(g, grp.nodes), [&](NodeId a, NodeId b) {
    return planOverlap(g, plan, grp, a, b);
  });
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
    // A group whose nodes run one after another in graph order (a sum and
    // its operand) moves no call: the order, checked before, is unchanged.
    bool moves = false;
    for (NodeId id = grp.nodes.front(); id < grp.nodes.back() && !moves; ++id)
      moves = inArena(g, id) &&
              !std::binary_search(grp.nodes.begin(), grp.nodes.end(), id);
    if ((grp.weight >= 0 && !disjointBuffers(g, plan, grp, false)) ||
        (moves && !readsIntact(g, plan, runOrder(g, with))))
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
  std::vector<int> uses = g.useCounts();
  for (NodeId e = 0; e < g.size(); ++e)
    if (!taken[e] && isFoldedIntoSum(g, e, uses)) {
      KernelGroup sum;
      sum.reduce = foldedInto(g, e);
      sum.nodes = {e, sum.reduce};
      tryAdd(sum);
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
    // With each gradient its updates alone read (passes/UpdateChains.h)
    // whose operands the plan keeps intact until then (it may have reused
    // a product's buffer once the gradient was computed), latest first.
    std::vector<NodeId> own = sgd.nodes;
    for (NodeId id = g.size() - 1; id >= 0; --id) {
      if (!isFoldedGradient(g, id, uses) || !allUsersIn(g, id, own))
        continue;
      KernelGroup with = sgd;
      with.nodes.push_back(id);
      std::sort(with.nodes.begin(), with.nodes.end());
      std::vector<KernelGroup> all = groups;
      all.push_back(with);
      // Only into one loop per chain split between threads: computed
      // apart, a loop of the group's unsplit kernel measured 2.4x slower
      // than the gradient's own kernel (mnist_mlp, batch 256).
      if (readsIntact(g, plan, runOrder(g, all)) &&
          disjointBuffers(g, plan, with, true) && oneLoopEach(g, plan, with))
        sgd = std::move(with);
    }
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
  if (grp.reduce >= 0)
    return kernelNames[static_cast<size_t>(grp.reduce)] + "_with_operand";
  return symbol + "_optimizer" +
         (grp.index ? "_" + std::to_string(grp.index + 1) : "");
}

} // namespace nn::cpu
