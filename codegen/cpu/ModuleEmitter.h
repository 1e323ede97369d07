//===- ModuleEmitter.h - Graph to an LLVM module (internal) ----*- C++ -*-===//
///
/// \file
/// The module emitter shared by EmitModule.cpp (the kernels: one per node,
/// one per kernel group) and EmitEntry.cpp (the entry point that calls
/// them, and the tasks that run split kernels on the thread pool). Internal
/// to codegen/cpu.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/Emit.h"
#include "codegen/cpu/KernelGroups.h"
#include "codegen/cpu/KernelReuse.h"
#include "codegen/cpu/SideBySide.h"

#include "ir/Printer.h"

#include <string>
#include <vector>

namespace nn::cpu {

/// Whether node `id`'s kernel is a matrix product (EmitGemm.cpp).
bool isProduct(const Graph &g, NodeId id);
/// Whether node `id`'s kernel is split between threads (products by column
/// panels, loops by ranges): it then takes (..., i64 part, i64 parts,
/// i64 batch) and is called through nnc_parallel_for.
bool splittable(const Graph &g, NodeId id);
/// The depth (summed dimension) of node `id`'s product, kBatch possible.
int64_t productDepth(const Graph &g, NodeId id);
/// The maxParts and work (multiply-adds or elements) of spatial node `id`'s
/// kernel, as its kernel splits itself (EmitSpatial.cpp).
std::pair<llvm::Value *, llvm::Value *>
spatialSplit(llvm::IRBuilder<> &b, const Graph &g, NodeId id,
             llvm::Value *batch);

/// The most kernel calls one function of a step makes (see EmitEntry.cpp).
constexpr int64_t kCallsPerPart = 128;

/// A split kernel's call (EmitEntry.cpp), held back to run beside the next
/// one: the kernel, its arguments but part and parts, its maxParts and
/// work, and the buffers it writes and reads.
struct SplitCall {
  llvm::Function *k = nullptr;
  std::vector<llvm::Value *> args;
  llvm::Value *maxParts = nullptr, *work = nullptr;
  CallFootprint buffers;
};
/// The parameters of split kernel `k` but part and parts, as a struct.
llvm::StructType *argsType(llvm::Function *k);

class ModuleEmitter {
public:
  ModuleEmitter(llvm::LLVMContext &ctx, llvm::Module &m,
                const CpuOptions &opts)
      : ctx(ctx), mod(m), opts(opts),
        ptrTy(llvm::PointerType::get(ctx, 0)) {}

  /// The entry point of `e` and the kernels it calls (EmitEntry.cpp).
  void emitEntry(const CpuEntry &e);
  /// Kernels that were copies of an earlier one (KernelReuse).
  int reusedKernels() const { return reuse.reused(); }

  /// `k`, or the identical kernel emitted before it (not with --profile,
  /// whose tick names must name each node's own kernel).
  llvm::Function *shared(llvm::Function *k) {
    return opts.profile ? k : reuse.reuse(k);
  }
  /// Node `id`'s kernel.
  llvm::Function *emitKernel(const Graph &g, NodeId id);
  /// The kernel of group `grp`; `outside` receives its operands from
  /// outside the group, in parameter order.
  llvm::Function *emitGroupKernel(const Graph &g, const MemoryPlan &plan,
                                  const KernelGroup &grp,
                                  const std::string &symbol,
                                  std::vector<NodeId> &outside);
  /// A private global holding constant tensor `id`.
  llvm::Value *constGlobal(const Graph &g, NodeId id);
  /// Calls kernel `k` with `args` (its parameters but part and parts):
  /// directly, or, for a split kernel, through nnc_parallel_for_ptr with a
  /// task that unpacks `args` (maxParts column panels of 16 for a product
  /// of `work` multiply-adds).
  void callKernel(llvm::IRBuilder<> &b, llvm::Function *k,
                  const std::vector<llvm::Value *> &args,
                  llvm::Value *maxParts, llvm::Value *work);
  llvm::Function *taskOf(llvm::Function *k);
  /// Runs `x` and `y` (sideBySide) as one job of nnc_parallel_for, their
  /// parts shared in proportion to their work (EmitSideBySide.cpp).
  void callPair(llvm::IRBuilder<> &b, const SplitCall &x, const SplitCall &y);
  llvm::Function *pairTaskOf(llvm::Function *ka, llvm::Function *kb);
  llvm::GlobalVariable *parallelFor();

  llvm::LLVMContext &ctx;
  llvm::Module &mod;
  const CpuOptions &opts;
  llvm::PointerType *ptrTy;
  KernelReuse reuse;
  /// The entry's graph's nodes as text, without locations (set by emitEntry
  /// for its kernels).
  const NodePrinter *nodeText = nullptr;
  /// The entry's graph's kernel names (ir/KernelNames.h), set by emitEntry.
  std::vector<std::string> kernelName;

private:
  llvm::Function *groupFunction(const Graph &g, const KernelGroup &grp,
                                const std::string &name, size_t numOutside,
                                bool split);
  void nameGroupParams(const MemoryPlan &plan, llvm::Function *f,
                       const std::vector<NodeId> &bufs, size_t outs,
                       bool split);
  void verifyKernel(llvm::Function *f, const std::string &name,
                    const std::string &nodes);
};

} // namespace nn::cpu
