//===- KernelGroups.h - Nodes that share one CPU kernel --------*- C++ -*-===//
///
/// \file
/// Which nodes of a step the CPU backend computes in one kernel function (a
/// weight gradient with its bias gradient; the SGD updates, 64 at a time),
/// and the memory-plan checks that make moving their calls safe. No LLVM
/// here: the module emitter reads the groups. Private to codegen/cpu.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/MemoryPlan.h"

#include <cstddef>
#include <string>
#include <vector>

namespace nn::cpu {

/// Several nodes computed by one kernel function, called where the last of
/// them was: a weight gradient and the bias gradient summed from the same
/// operand in the same pass (emitGradWithBias), a sum over every element
/// with the elementwise operand its loop computes (l2's sum(mul(w, w)):
/// one pass over w), or every SGD update of a
/// step with the gradients only they read (passes/UpdateChains.h; one loop
/// per parameter, or per node in graph order: emitUpdateGroup).
struct KernelGroup {
  NodeId weight = -1; ///< the weight gradient of a pair; -1: SGD updates
  std::vector<NodeId> nodes; ///< ascending
  int index = 0; ///< SGD updates: which of the step's optimizer kernels
  /// A sum over every element whose operand (nodes[0], isFoldedIntoSum) its
  /// loop computes (emitFoldedSum); -1: not such a pair.
  NodeId reduce = -1;
};

/// The most SGD updates one optimizer kernel makes: a deep model's updates
/// in one function (8,404 lines of IR for 200 layers) made LLVM's code
/// generation superlinear in the depth.
constexpr size_t kUpdatesPerKernel = 64;

/// Whether the arena buffers of `a` and `b` (a != b) share a byte.
bool overlaps(const MemoryPlan &plan, NodeId a, NodeId b);

/// The index of each node's group in `groups`, or -1.
std::vector<int> groupIndex(const Graph &g,
                            const std::vector<KernelGroup> &groups);

/// Whether a pair's results and its arena operands are pairwise disjoint
/// (its two nodes write while they both read). With `sameSlotOk`, a result
/// may also share exactly the slot (offset and size) of another buffer: in
/// loops split into the same index ranges, element i of both is touched by
/// one task only, in program order. An SGD group's loops run one
/// after another, so readsIntact suffices; its kernel's parameters are
/// noalias only where their buffers overlap no other's.
bool disjointBuffers(const Graph &g, const MemoryPlan &plan,
                     const KernelGroup &grp, bool sameSlotOk);

/// Whether the caller passes update group `grp`'s scalar arena operand `in`
/// as a copy on its stack: the plan may have put a result of the group over
/// it once it was dead in graph order (a folded gradient reads it later, in
/// the group), and another task may write that result before this one reads
/// it. disjointBuffers and the chains' overlap checks leave such operands out.
bool copiesScalar(const Graph &g, const KernelGroup &grp, NodeId in);

/// The kernel groups of `g` under `plan`: each weight gradient with its bias
/// gradient (isGradBiasPair), and all SGD updates, where moving their calls
/// to the group's last node keeps every read intact; the rest run alone.
std::vector<KernelGroup> findGroups(const Graph &g, const MemoryPlan &plan);

/// The name of group `grp`'s kernel function: its weight gradient's kernel
/// name (`kernelNames`, ir/KernelNames.h) + "_with_bias", its sum's +
/// "_with_operand", or the entry's
/// `symbol` + "_optimizer" ("_optimizer_2", ... for the later ones).
std::string groupKernelName(const KernelGroup &grp,
                            const std::vector<std::string> &kernelNames,
                            const std::string &symbol);

} // namespace nn::cpu
