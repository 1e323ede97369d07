//===- EmitUpdates.cpp - The optimizer's update loops ---------------------===//
///
/// \file
/// Kernels of the Update family of ir/Ops.def (per-element math:
/// ir/FusedMath.h, emitUpdate). Alone, an update is one loop over its
/// elements with the scalar hyperparameters loaded once before it. In the
/// step's optimizer group, the updates of one parameter form a chain (a
/// fused.adam reading the fused.adam_moment and fused.adam_variance of the
/// same step, a fused.sgd reading its fused.sgd_momentum): a chain is one
/// loop that loads each outside operand once per element, keeps the
/// intermediate results (m', v') in registers for the later members and
/// stores every member's result once. The loop is split between threads
/// like every update loop, and each member computes what its own kernel
/// would, so the results are bit for bit those of separate loops. Chains
/// are on unless CpuOptions::updateChains is false (markParallel says why
/// they once measured slower).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <algorithm>
#include <map>
#include <memory>

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// Whether operand `t` of update `k.node` is a scalar hyperparameter, read
/// once before the loop: the last operand, and every scalar one of a
/// tensor's update (a scalar parameter reads its other operands at i = 0).
bool isUpdateScalar(const KernelEmitter &k, size_t t) {
  return t + 1 == k.node.inputs.size() ||
         (k.inType(t).isScalar() && !k.node.type.isScalar());
}

/// The chains of `nodes` (ascending): nodes joined when one reads another.
std::vector<std::vector<NodeId>> chainsOf(const Graph &g,
                                          const std::vector<NodeId> &nodes) {
  std::map<NodeId, size_t> chainOf;
  std::vector<std::vector<NodeId>> chains;
  for (NodeId id : nodes) {
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
  for (std::vector<NodeId> &c : chains)
    if (!c.empty()) {
      std::sort(c.begin(), c.end());
      out.push_back(std::move(c));
    }
  return out;
}

/// Whether every node of `chain` has the type of its last one.
bool sameShape(const Graph &g, const std::vector<NodeId> &chain) {
  const TensorType &t = g[chain.back()].type;
  return std::all_of(chain.begin(), chain.end(),
                     [&](NodeId id) { return g[id].type.dims == t.dims; });
}

/// Marks the loop whose back edge ends block `latch` as free of
/// loop-carried memory dependences (llvm.loop.parallel_accesses over every
/// load and store of `blocks`). Element i of every buffer is read and
/// written by iteration i alone, and a chain's results are apart from its
/// operands or in exactly their slot (chainsApart): the vectorizer needs no
/// runtime alias check. Without it the check compares the pointers of a
/// result written in its gradient's slot (the plan's reuse of a dead
/// buffer) and, finding them equal, ran the scalar loop: 4.5x slower than
/// separate loops on mnist_mlp with AdamW at batch 64.
void markParallel(LLVMContext &ctx, const std::vector<BasicBlock *> &blocks,
                  BasicBlock *latch) {
  MDNode *group = MDNode::getDistinct(ctx, {});
  for (BasicBlock *bb : blocks)
    for (Instruction &inst : *bb)
      if (isa<LoadInst>(inst) || isa<StoreInst>(inst))
        inst.setMetadata(LLVMContext::MD_access_group, group);
  Metadata *parallel[] = {MDString::get(ctx, "llvm.loop.parallel_accesses"),
                          group};
  Metadata *ops[] = {nullptr, MDNode::get(ctx, parallel)};
  MDNode *loopId = MDNode::getDistinct(ctx, ops);
  loopId->replaceOperandWith(0, loopId);
  latch->getTerminator()->setMetadata(LLVMContext::MD_loop, loopId);
}

/// One loop for the whole chain; returns the block after it.
BasicBlock *emitChain(Module &m, Function *f, const Graph &g,
                      const std::vector<NodeId> &chain,
                      const OperandsFn &operands, const BufferFn &buffer,
                      BasicBlock *at) {
  std::vector<std::unique_ptr<KernelEmitter>> ks;
  for (NodeId id : chain)
    ks.push_back(std::make_unique<KernelEmitter>(m, f, g, id, operands(id),
                                                 buffer(id), at));
  auto position = [&](NodeId in) {
    return static_cast<size_t>(std::find(chain.begin(), chain.end(), in) -
                               chain.begin());
  };
  // The scalars, loaded before the loop.
  std::vector<std::vector<Val>> scalars(chain.size());
  for (size_t j = 0; j < chain.size(); ++j) {
    KernelEmitter &k = *ks[j];
    scalars[j].assign(k.node.inputs.size(), nullptr);
    for (size_t t = 0; t < k.node.inputs.size(); ++t)
      if (position(k.node.inputs[t]) == chain.size() && isUpdateScalar(k, t))
        scalars[j][t] = k.load(t, k.i64(0));
  }
  KernelEmitter &root = *ks.back();
  root.b.SetInsertPoint(ks.front()->b.GetInsertBlock());
  size_t blocksBefore = f->size();
  BasicBlock *latch = nullptr;
  root.splitLoop(root.numel(root.node.type), "i", [&](Val i) {
    std::vector<Val> value(chain.size(), nullptr);
    for (size_t j = 0; j < chain.size(); ++j) {
      KernelEmitter &k = *ks[j];
      k.b.SetInsertPoint(root.b.GetInsertBlock());
      std::vector<Val> args;
      for (size_t t = 0; t < k.node.inputs.size(); ++t) {
        size_t from = position(k.node.inputs[t]);
        args.push_back(from < chain.size() ? value[from]
                       : scalars[j][t]     ? scalars[j][t]
                                           : k.load(t, i));
      }
      LlvmMath math{k};
      value[j] = emitUpdate(math, member<UpdateOp>(k.node.op),
                            std::span<const Val>(args));
      root.b.SetInsertPoint(k.b.GetInsertBlock());
    }
    // Every load before the first store: no load waits behind a store to
    // the same page offset (the buffers are alike in size and alignment).
    for (size_t j = 0; j < chain.size(); ++j) {
      ks[j]->b.SetInsertPoint(root.b.GetInsertBlock());
      ks[j]->store(i, value[j]);
    }
    latch = ks.back()->b.GetInsertBlock();
  });
  std::vector<BasicBlock *> loopBlocks;
  for (BasicBlock &bb : *f)
    loopBlocks.push_back(&bb);
  loopBlocks.erase(loopBlocks.begin(),
                   loopBlocks.begin() + static_cast<long>(blocksBefore));
  markParallel(m.getContext(), loopBlocks, latch);
  return root.b.GetInsertBlock();
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

} // namespace

void emitUpdateKernel(KernelEmitter &k) {
  LlvmMath math{k};
  UpdateOp op = member<UpdateOp>(k.node.op);
  std::vector<Val> scalars(k.node.inputs.size(), nullptr);
  for (size_t t = 0; t < scalars.size(); ++t)
    if (isUpdateScalar(k, t))
      scalars[t] = k.load(t, k.i64(0));
  k.splitLoop(k.numel(k.node.type), "i", [&](Val i) {
    std::vector<Val> args;
    for (size_t t = 0; t < scalars.size(); ++t)
      args.push_back(scalars[t] ? scalars[t] : k.load(t, i));
    k.store(i, emitUpdate(math, op, std::span<const Val>(args)));
  });
}

BasicBlock *emitUpdateGroup(Module &m, Function *f, const Graph &g,
                            const std::vector<NodeId> &nodes,
                            const OperandsFn &operands, const BufferFn &buffer,
                            BasicBlock *at, const OverlapFn &overlap) {
  std::vector<std::vector<NodeId>> chains = chainsOf(g, nodes);
  bool oneLoop = chainsApart(g, chains, overlap);
  if (!oneLoop)
    chains = {nodes}; // graph order, one loop per node
  for (const std::vector<NodeId> &chain : chains) {
    if (oneLoop && chain.size() > 1 && sameShape(g, chain)) {
      at = emitChain(m, f, g, chain, operands, buffer, at);
      continue;
    }
    for (NodeId id : chain) {
      KernelEmitter k(m, f, g, id, operands(id), buffer(id), at);
      emitKernelBody(k);
      at = k.b.GetInsertBlock();
    }
  }
  return at;
}

} // namespace nn::cpu
