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
/// stores every member's result once. A gradient only its update reads
/// (l2's `2 lambda w + g`, passes/UpdateChains.h) joins the chain: computed
/// from its operands in the loop, never stored nor read back. The loop is split between threads
/// like every update loop, and each member computes what its own kernel
/// would, so the results are bit for bit those of separate loops. Chains
/// are on unless CpuOptions::updateChains is false (markParallel says why
/// they once measured slower).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/FusedMath.h"
#include "ir/Support.h"
#include "passes/UpdateChains.h"

#include <algorithm>
#include <map>
#include <memory>

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// Whether operand `t` of `k.node` is read once before the loop.
bool isUpdateScalar(const KernelEmitter &k, size_t t) {
  return isHoistedOperand(k.g, k.node, t);
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
      value[j] = emitChainMember(math, k.node, std::span<const Val>(args));
      root.b.SetInsertPoint(k.b.GetInsertBlock());
    }
    // Every load before the first store: no load waits behind a store to
    // the same page offset (the buffers are alike in size and alignment).
    // A folded gradient (not an update) is read by its update alone: kept
    // in a register, never stored.
    for (size_t j = 0; j < chain.size(); ++j) {
      ks[j]->b.SetInsertPoint(root.b.GetInsertBlock());
      if (family(ks[j]->node.op) == OpFamily::Update)
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
