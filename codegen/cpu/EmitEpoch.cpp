//===- EmitEpoch.cpp - K training steps as one call -----------------------===//
///
/// \file
/// `int64_t <symbol>_steps(const CpuStepsArgs *)` (codegen/cpu/CpuSteps.h):
/// the trainer's loop over a run of steps in generated code. Per step: the
/// batch's rows are copied from the whole data set (the shuffled index list
/// selects them) into the Input and Label buffers, the step's learning rate
/// is stored into the "optimizer.lr" leaf, the step entry is called, and its
/// loss (and "pred" rows) are copied into per-step arrays. A loss that is not
/// finite ends the loop after its step, so the host can explain it before
/// anything else runs. The values are the ones the host loop would bind, so
/// the steps compute the same bits.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuSteps.h"

#include "codegen/cpu/ModuleEmitter.h"
#include "ir/Support.h"
#include "passes/optim/Optimizer.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace nn {

std::string cpuStepsSymbol(const Graph &g) {
  return cpuStepSymbol(g) + "_steps";
}

namespace cpu {

using namespace llvm;

namespace {

/// What the steps entry of a graph needs to know about it; nullopt when the
/// graph cannot have one.
struct StepsShape {
  int64_t inIdx = -1, labelIdx = -1, lrIdx = -1; // in the leaf array
  int64_t xRow = 0, yRow = 0;                    // floats per sample
  int64_t lossOff = -1, predOff = -1, predRow = 0;
};

std::optional<StepsShape> stepsShape(const Graph &g, const MemoryPlan &plan) {
  if (g.updates.empty())
    return std::nullopt;
  StepsShape s;
  std::vector<NodeId> order = cpuLeafOrder(g);
  int inputs = 0, labels = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const Node &n = g[order[i]];
    bool batchLeaf = n.op == OpKind::Input || n.op == OpKind::Label;
    if (batchLeaf && !n.type.hasBatch())
      return std::nullopt;
    if (n.op == OpKind::Input) {
      ++inputs;
      s.inIdx = static_cast<int64_t>(i);
      s.xRow = n.type.numelPerSample();
    } else if (n.op == OpKind::Label) {
      ++labels;
      s.labelIdx = static_cast<int64_t>(i);
      s.yRow = n.type.numelPerSample();
    } else if (n.op == OpKind::State && n.name == kLrLeaf) {
      s.lrIdx = static_cast<int64_t>(i);
    }
  }
  if (inputs != 1 || labels != 1)
    return std::nullopt;
  for (const Output &o : g.outputs) {
    const Node &n = g[o.node];
    if (o.name == "loss" && n.type.numel() == 1 && !n.type.hasBatch())
      s.lossOff = plan.offset[o.node];
    if (o.name == "pred" && n.type.hasBatch() && plan.offset[o.node] >= 0) {
      s.predOff = plan.offset[o.node];
      s.predRow = n.type.numelPerSample();
    }
  }
  if (s.lossOff < 0)
    return std::nullopt;
  return s;
}

/// Emits the function body for `s`, calling `step`.
class StepsEmitter {
public:
  StepsEmitter(ModuleEmitter &me, Function *f, Function *step,
               const StepsShape &s)
      : me(me), f(f), step(step), s(s), b(me.ctx), i64(b.getInt64Ty()),
        f32(b.getFloatTy()) {}
  void emit();

private:
  Value *field(int i, Type *ty, const char *name) {
    Value *p = b.CreateConstInBoundsGEP1_64(i64, f->getArg(0), i);
    return b.CreateLoad(ty, p, name);
  }
  Value *leaf(int64_t idx) {
    return b.CreateLoad(me.ptrTy, b.CreateConstInBoundsGEP1_64(
                                      me.ptrTy, leaves, idx));
  }
  void gather(Value *begin, Value *n);
  void stepBody(Value *k, BasicBlock *next, BasicBlock *stop);

  ModuleEmitter &me;
  Function *f, *step;
  const StepsShape &s;
  IRBuilder<> b;
  Type *i64, *f32;
  Value *leaves, *arena, *x, *y, *order, *rows, *batch, *first, *lr, *loss,
      *pred;
};

/// Copies rows order[begin .. begin + n) of x and y into the Input and Label
/// buffers.
void StepsEmitter::gather(Value *begin, Value *n) {
  Value *inBuf = leaf(s.inIdx), *labelBuf = leaf(s.labelIdx);
  BasicBlock *pre = b.GetInsertBlock();
  BasicBlock *loop = BasicBlock::Create(me.ctx, "gather", f);
  BasicBlock *done = BasicBlock::Create(me.ctx, "gathered", f);
  b.CreateCondBr(b.CreateICmpSGT(n, b.getInt64(0)), loop, done);
  b.SetInsertPoint(loop);
  PHINode *r = b.CreatePHI(i64, 2, "r");
  r->addIncoming(b.getInt64(0), pre);
  Value *src = b.CreateLoad(i64, b.CreateInBoundsGEP(i64, order,
                                                     b.CreateAdd(begin, r)));
  auto copyRow = [&](Value *dst, Value *from, int64_t width) {
    Value *w = b.getInt64(static_cast<uint64_t>(width));
    b.CreateMemCpy(b.CreateInBoundsGEP(f32, dst, b.CreateMul(r, w)),
                   MaybeAlign(4),
                   b.CreateInBoundsGEP(f32, from, b.CreateMul(src, w)),
                   MaybeAlign(4), b.getInt64(static_cast<uint64_t>(width * 4)));
  };
  copyRow(inBuf, x, s.xRow);
  copyRow(labelBuf, y, s.yRow);
  Value *r1 = b.CreateAdd(r, b.getInt64(1));
  r->addIncoming(r1, loop);
  b.CreateCondBr(b.CreateICmpSLT(r1, n), loop, done);
  b.SetInsertPoint(done);
}

/// Step `k`: gather, lr, the step, its outputs; then `next`, or `stop` when
/// the loss is not finite.
void StepsEmitter::stepBody(Value *k, BasicBlock *next, BasicBlock *stop) {
  Value *begin = b.CreateMul(b.CreateAdd(first, k), batch);
  Value *left = b.CreateSub(rows, begin);
  Value *n = b.CreateSelect(b.CreateICmpSLT(left, batch), left, batch, "n");
  gather(begin, n);
  if (s.lrIdx >= 0)
    b.CreateStore(b.CreateLoad(f32, b.CreateInBoundsGEP(f32, lr, k)),
                  leaf(s.lrIdx));
  b.CreateCall(step, {leaves, arena, n});
  Value *l = b.CreateLoad(
      f32, b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena, s.lossOff));
  b.CreateStore(l, b.CreateInBoundsGEP(f32, loss, k));
  if (s.predOff >= 0) {
    Value *w = b.getInt64(static_cast<uint64_t>(s.predRow));
    Value *dst = b.CreateInBoundsGEP(f32, pred,
                                     b.CreateMul(b.CreateMul(k, batch), w));
    b.CreateMemCpy(
        dst, MaybeAlign(4),
        b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena, s.predOff),
        MaybeAlign(4), b.CreateMul(b.CreateMul(n, w), b.getInt64(4)));
  }
  // |l| < inf is false for NaN and for infinities.
  Value *mag = b.CreateUnaryIntrinsic(Intrinsic::fabs, l);
  Value *finite =
      b.CreateFCmpOLT(mag, ConstantFP::getInfinity(f32, false), "finite");
  b.CreateCondBr(finite, next, stop);
}

void StepsEmitter::emit() {
  b.SetInsertPoint(BasicBlock::Create(me.ctx, "entry", f));
  leaves = field(0, me.ptrTy, "leaves");
  arena = field(1, me.ptrTy, "arena");
  x = field(2, me.ptrTy, "x");
  y = field(3, me.ptrTy, "y");
  order = field(4, me.ptrTy, "order");
  rows = field(5, i64, "rows");
  batch = field(6, i64, "batch");
  first = field(7, i64, "first");
  Value *steps = field(8, i64, "steps");
  lr = field(9, me.ptrTy, "lr");
  loss = field(10, me.ptrTy, "loss");
  pred = field(11, me.ptrTy, "pred");
  BasicBlock *entry = b.GetInsertBlock();
  BasicBlock *head = BasicBlock::Create(me.ctx, "step", f);
  BasicBlock *body = BasicBlock::Create(me.ctx, "body", f);
  // Placed after the step's blocks, so that the IR reads in order.
  BasicBlock *next = BasicBlock::Create(me.ctx, "next");
  BasicBlock *stop = BasicBlock::Create(me.ctx, "nonfinite");
  BasicBlock *done = BasicBlock::Create(me.ctx, "done");
  b.CreateBr(head);
  b.SetInsertPoint(head);
  PHINode *k = b.CreatePHI(i64, 2, "k");
  k->addIncoming(b.getInt64(0), entry);
  b.CreateCondBr(b.CreateICmpSLT(k, steps), body, done);
  b.SetInsertPoint(body);
  stepBody(k, next, stop);
  for (BasicBlock *bb : {next, stop, done})
    bb->insertInto(f);
  b.SetInsertPoint(next);
  Value *k1 = b.CreateAdd(k, b.getInt64(1));
  k->addIncoming(k1, next);
  b.CreateBr(head);
  b.SetInsertPoint(stop);
  b.CreateRet(b.CreateAdd(k, b.getInt64(1)));
  b.SetInsertPoint(done);
  b.CreateRet(steps);
}

} // namespace

void emitStepsEntry(ModuleEmitter &me, const CpuEntry &e) {
  std::optional<StepsShape> s = stepsShape(*e.graph, *e.plan);
  Function *step = me.mod.getFunction(e.symbol);
  if (!s || !step)
    return;
  Type *i64 = Type::getInt64Ty(me.ctx);
  auto *fty = FunctionType::get(i64, {me.ptrTy}, false);
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage,
                                 e.symbol + "_steps", me.mod);
  f->addFnAttr(Attribute::NoUnwind);
  f->getArg(0)->setName("args");
  StepsEmitter(me, f, step, *s).emit();
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated entry point " + e.symbol +
                   "_steps fails LLVM's verifier: " + os.str());
}

} // namespace cpu

} // namespace nn
