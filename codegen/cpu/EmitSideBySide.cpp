//===- EmitSideBySide.cpp - Two independent kernels as one parallel job ---===//
///
/// \file
/// Two split kernels that follow each other in a step and do not depend on
/// each other (in the backward pass, a layer's input gradient and its weight
/// gradient) run as one job of the thread pool: the job's parts are shared
/// between the two in proportion to their work, so that two kernels too
/// small to use every core alone use them together, and the step pays one
/// hand-off instead of two. Each kernel computes every element exactly as
/// when it is called alone (its results do not depend on its part count),
/// so the bits stay the same for any thread count.
///
/// The job's task, pair_<a>_<b>(ctx, part, parts), reads
///   { ptr argsA, ptr argsB, i64 maxA, i64 maxB, i64 workA, i64 workB }
/// and runs, with parts == 1 (on the caller alone), a(0, 1) then b(0, 1);
/// else a(part, pA) for part < pA and b(part - pA, parts - pA) for the
/// rest, pA = round(parts * workA / (workA + workB)) clamped so that each
/// kernel has at least one part and at most its maxParts.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ModuleEmitter.h"
#include "codegen/cpu/SideBySide.h"

#include <algorithm>

namespace nn::cpu {

using namespace llvm;

namespace {

/// Whether buffer `w` (written by one kernel) is any of `others` or shares
/// a byte with one.
bool touches(const MemoryPlan &plan, NodeId w,
             const std::vector<NodeId> &others) {
  return std::any_of(others.begin(), others.end(), [&](NodeId o) {
    return o == w || overlaps(plan, o, w);
  });
}

/// w's writes against every buffer the other kernel reads or writes.
bool clashes(const MemoryPlan &plan, const CallFootprint &w,
             const CallFootprint &o) {
  return std::any_of(w.writes.begin(), w.writes.end(), [&](NodeId id) {
    return touches(plan, id, o.reads) || touches(plan, id, o.writes);
  });
}

/// The pair's context struct type.
StructType *pairContextType(LLVMContext &ctx) {
  Type *p = PointerType::get(ctx, 0), *i64 = Type::getInt64Ty(ctx);
  return StructType::get(ctx, {p, p, i64, i64, i64, i64});
}

} // namespace

bool sideBySide(const MemoryPlan &plan, const CallFootprint &a,
                const CallFootprint &b) {
  return !clashes(plan, a, b) && !clashes(plan, b, a);
}

Function *ModuleEmitter::pairTaskOf(Function *ka, Function *kb) {
  std::string name = "pair_" + ka->getName().str() + "_" + kb->getName().str();
  if (Function *t = mod.getFunction(name))
    return t;
  Function *ta = taskOf(ka), *tb = taskOf(kb);
  Type *i64 = Type::getInt64Ty(ctx);
  Function *t = Function::Create(ta->getFunctionType(),
                                 GlobalValue::InternalLinkage, name, mod);
  t->addFnAttr(Attribute::NoUnwind);
  Value *c = t->getArg(0), *part = t->getArg(1), *parts = t->getArg(2);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", t));
  StructType *st = pairContextType(ctx);
  auto field = [&](unsigned i) {
    return b.CreateLoad(st->getElementType(i), b.CreateStructGEP(st, c, i));
  };
  Value *argsA = field(0), *argsB = field(1), *maxA = field(2),
        *maxB = field(3), *workA = field(4), *workB = field(5);
  BasicBlock *serial = BasicBlock::Create(ctx, "serial", t);
  BasicBlock *split = BasicBlock::Create(ctx, "split", t);
  BasicBlock *runA = BasicBlock::Create(ctx, "a", t);
  BasicBlock *runB = BasicBlock::Create(ctx, "b", t);
  b.CreateCondBr(b.CreateICmpSLE(parts, b.getInt64(1)), serial, split);
  b.SetInsertPoint(serial);
  b.CreateCall(ta, {argsA, b.getInt64(0), b.getInt64(1)});
  b.CreateCall(tb, {argsB, b.getInt64(0), b.getInt64(1)});
  b.CreateRetVoid();
  // pA = clamp(round(parts * wA / (wA + wB)), max(1, parts - maxB),
  //            min(maxA, parts - 1)); parts <= maxA + maxB, so lo <= hi.
  b.SetInsertPoint(split);
  Type *f64 = b.getDoubleTy();
  Value *wa = b.CreateSIToFP(workA, f64);
  Value *total = b.CreateFAdd(wa, b.CreateSIToFP(workB, f64));
  Value *share = b.CreateFDiv(b.CreateFMul(b.CreateSIToFP(parts, f64), wa),
                              b.CreateSelect(b.CreateFCmpOGT(total,
                                                             ConstantFP::get(
                                                                 f64, 0.0)),
                                             total, ConstantFP::get(f64, 1.0)));
  Value *pa = b.CreateFPToSI(
      b.CreateFAdd(share, ConstantFP::get(f64, 0.5)), i64);
  auto smax = [&](Value *x, Value *y) {
    return b.CreateSelect(b.CreateICmpSGT(x, y), x, y);
  };
  auto smin = [&](Value *x, Value *y) {
    return b.CreateSelect(b.CreateICmpSLT(x, y), x, y);
  };
  Value *lo = smax(b.getInt64(1), b.CreateSub(parts, maxB));
  Value *hi = smin(maxA, b.CreateSub(parts, b.getInt64(1)));
  pa = smin(smax(pa, lo), hi);
  b.CreateCondBr(b.CreateICmpSLT(part, pa), runA, runB);
  b.SetInsertPoint(runA);
  b.CreateCall(ta, {argsA, part, pa});
  b.CreateRetVoid();
  b.SetInsertPoint(runB);
  b.CreateCall(tb, {argsB, b.CreateSub(part, pa), b.CreateSub(parts, pa)});
  b.CreateRetVoid();
  return t;
}

void ModuleEmitter::callPair(IRBuilder<> &b, const SplitCall &x,
                             const SplitCall &y) {
  Function *caller = b.GetInsertBlock()->getParent();
  IRBuilder<> entry(&caller->getEntryBlock(),
                    caller->getEntryBlock().begin());
  auto pack = [&](const SplitCall &c) {
    Value *slot = entry.CreateAlloca(argsType(c.k), nullptr, "args");
    for (unsigned i = 0; i < c.args.size(); ++i)
      b.CreateStore(c.args[i], b.CreateStructGEP(argsType(c.k), slot, i));
    return slot;
  };
  StructType *st = pairContextType(ctx);
  Value *pair = entry.CreateAlloca(st, nullptr, "pair");
  Value *fields[] = {pack(x),  pack(y),  x.maxParts,
                     y.maxParts, x.work, y.work};
  for (unsigned i = 0; i < 6; ++i)
    b.CreateStore(fields[i], b.CreateStructGEP(st, pair, i));
  Type *i64 = Type::getInt64Ty(ctx);
  auto *forTy = FunctionType::get(Type::getVoidTy(ctx),
                                  {ptrTy, ptrTy, i64, i64}, false);
  Value *fn = b.CreateLoad(ptrTy, parallelFor(), "parallel_for");
  b.CreateCall(forTy, fn,
               {pairTaskOf(x.k, y.k), pair, b.CreateAdd(x.maxParts, y.maxParts),
                b.CreateAdd(x.work, y.work)});
}

} // namespace nn::cpu
