//===- KernelEmitter.cpp - Loops, loads and stores of one kernel ----------===//
///
/// \file
/// The KernelEmitter's helpers (codegen/cpu/Emit.h): loops (plain, split
/// between threads, strided nests), operand loads and stores, stack slots
/// and double accumulators, libm declarations, and LlvmMath's exp, log and
/// lane-by-lane libm calls.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "llvm/IR/Intrinsics.h"

namespace nn::cpu {

using namespace llvm;

KernelEmitter::KernelEmitter(Module &m, Function *f, const Graph &g, NodeId id,
                             std::vector<Operand> operands)
    : b(BasicBlock::Create(m.getContext(), "entry", f)), g(g), node(g[id]),
      in(std::move(operands)), mod(m), fn(f) {
  out = f->getArg(0);
  batch = f->getArg(f->arg_size() - 1);
  bindPart(f);
}

KernelEmitter::KernelEmitter(Module &m, Function *f, const Graph &g, NodeId id,
                             std::vector<Operand> operands, llvm::Value *out,
                             BasicBlock *at)
    : b(at), g(g), node(g[id]), out(out), in(std::move(operands)), mod(m),
      fn(f) {
  batch = f->getArg(f->arg_size() - 1);
  bindPart(f);
}

void KernelEmitter::bindPart(llvm::Function *f) {
  bool split = f->hasFnAttribute(kSplitAttr);
  part = split ? f->getArg(f->arg_size() - 3) : i64(0);
  parts = split ? f->getArg(f->arg_size() - 2) : i64(1);
}

llvm::Value *KernelEmitter::f32(double v) {
  return ConstantFP::get(b.getFloatTy(), v);
}

llvm::Value *KernelEmitter::dim(int64_t d) {
  return d == kBatch ? batch : i64(d);
}

llvm::Value *KernelEmitter::product(const std::vector<int64_t> &dims,
                                    size_t from, size_t to) {
  int64_t fixed = 1;
  int batches = 0;
  for (size_t i = from; i < to; ++i) {
    if (dims[i] == kBatch)
      ++batches;
    else
      fixed *= dims[i];
  }
  llvm::Value *v = batches > 0 && fixed == 1 ? batch : i64(fixed);
  for (int i = fixed == 1 ? 1 : 0; i < batches; ++i)
    v = b.CreateMul(v, batch, "", /*HasNUW=*/true, /*HasNSW=*/true);
  return v;
}

void KernelEmitter::loop(llvm::Value *n, const char *name,
                         const std::function<void(llvm::Value *)> &body) {
  LLVMContext &ctx = b.getContext();
  BasicBlock *pre = b.GetInsertBlock();
  BasicBlock *header = BasicBlock::Create(ctx, Twine(name) + ".head", fn);
  BasicBlock *bodyBlock = BasicBlock::Create(ctx, Twine(name) + ".body", fn);
  BasicBlock *exit = BasicBlock::Create(ctx, Twine(name) + ".end", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, name);
  i->addIncoming(i64(0), pre);
  b.CreateCondBr(b.CreateICmpSLT(i, n), bodyBlock, exit);
  b.SetInsertPoint(bodyBlock);
  body(i);
  llvm::Value *next = b.CreateAdd(i, i64(1), Twine(name) + ".next",
                                  /*HasNUW=*/true, /*HasNSW=*/true);
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateBr(header);
  b.SetInsertPoint(exit);
}

void KernelEmitter::ifElse(llvm::Value *cond,
                           const std::function<void()> &then,
                           const std::function<void()> &otherwise) {
  LLVMContext &ctx = b.getContext();
  BasicBlock *t = BasicBlock::Create(ctx, "then", fn);
  BasicBlock *e = BasicBlock::Create(ctx, "else", fn);
  BasicBlock *done = BasicBlock::Create(ctx, "endif", fn);
  b.CreateCondBr(cond, t, e);
  b.SetInsertPoint(t);
  then();
  b.CreateBr(done);
  b.SetInsertPoint(e);
  if (otherwise)
    otherwise();
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

void KernelEmitter::splitLoop(llvm::Value *n, const char *name,
                              const std::function<void(llvm::Value *)> &body) {
  llvm::Value *begin = b.CreateSDiv(b.CreateMul(part, n), parts);
  llvm::Value *end =
      b.CreateSDiv(b.CreateMul(b.CreateAdd(part, i64(1)), n), parts);
  loop(b.CreateSub(end, begin), name,
       [&](llvm::Value *i) { body(b.CreateAdd(begin, i)); });
}

bool isScalarConst(const Node &n) {
  return n.op == OpKind::Const && n.values.size() == 1;
}

std::vector<llvm::Value *>
KernelEmitter::denseStrides(const std::vector<int64_t> &dims) {
  std::vector<llvm::Value *> s(dims.size());
  for (size_t d = 0; d < dims.size(); ++d)
    s[d] = product(dims, d + 1, dims.size());
  return s;
}

void KernelEmitter::stridedLoop(
    const std::vector<int64_t> &dims,
    const std::vector<std::vector<llvm::Value *>> &strides,
    const std::function<void(llvm::Value *, std::vector<llvm::Value *>)>
        &body,
    bool splitOuter) {
  static const char *names[] = {"i", "j", "k", "l", "m", "n", "o", "p"};
  std::function<void(size_t, llvm::Value *, std::vector<llvm::Value *>)> nest =
      [&](size_t d, llvm::Value *flat, std::vector<llvm::Value *> offs) {
        if (d == dims.size()) {
          body(flat, std::move(offs));
          return;
        }
        auto each = [&](llvm::Value *i) {
          llvm::Value *f = b.CreateAdd(b.CreateMul(flat, dim(dims[d])), i);
          std::vector<llvm::Value *> o = offs;
          for (size_t k = 0; k < strides.size(); ++k)
            o[k] = b.CreateAdd(o[k], b.CreateMul(i, strides[k][d]));
          nest(d + 1, f, std::move(o));
        };
        const char *name = d < 8 ? names[d] : "q";
        if (d == 0 && splitOuter)
          splitLoop(dim(dims[d]), name, each);
        else
          loop(dim(dims[d]), name, each);
      };
  nest(0, i64(0), std::vector<llvm::Value *>(strides.size(), i64(0)));
}

llvm::Value *KernelEmitter::load(size_t i, llvm::Value *index) {
  const Operand &op = in[i];
  if (op.constant)
    return f32(*op.constant);
  llvm::Value *p = b.CreateInBoundsGEP(f32(), op.ptr, index);
  return b.CreateLoad(f32(), p);
}

void KernelEmitter::store(llvm::Value *index, llvm::Value *v) {
  storeTo(out, index, v);
}

void KernelEmitter::storeTo(llvm::Value *ptr, llvm::Value *index,
                            llvm::Value *v) {
  b.CreateStore(v, b.CreateInBoundsGEP(f32(), ptr, index));
}

llvm::Value *KernelEmitter::slot(Type *t, const char *name) {
  IRBuilder<> entry(&fn->getEntryBlock(), fn->getEntryBlock().begin());
  return entry.CreateAlloca(t, nullptr, name);
}

llvm::Value *KernelEmitter::accumulator(const char *name) {
  llvm::Value *a = slot(f64(), name);
  b.CreateStore(ConstantFP::get(f64(), 0.0), a);
  return a;
}

void KernelEmitter::accumulate(llvm::Value *acc, llvm::Value *v) {
  if (v->getType() != f64())
    v = b.CreateFPExt(v, f64());
  b.CreateStore(b.CreateFAdd(b.CreateLoad(f64(), acc), v), acc);
}

FunctionCallee KernelEmitter::libm(const char *name) {
  FunctionType *ty = FunctionType::get(f32(), {f32()}, false);
  FunctionCallee c = mod.getOrInsertFunction(name, ty);
  if (auto *f = dyn_cast<Function>(c.getCallee())) {
    f->setDoesNotThrow();
    f->setWillReturn();
    f->setDoesNotAccessMemory();
  }
  return c;
}

LlvmMath::Value LlvmMath::exp(Value a) {
  return k.b.CreateUnaryIntrinsic(Intrinsic::exp, a);
}

LlvmMath::Value LlvmMath::log(Value a) {
  return k.b.CreateUnaryIntrinsic(Intrinsic::log, a);
}

LlvmMath::Value LlvmMath::sqrt(Value a) {
  return k.b.CreateUnaryIntrinsic(Intrinsic::sqrt, a);
}

LlvmMath::Value LlvmMath::call(const char *name, Value a) {
  if (!lanes)
    return k.b.CreateCall(k.libm(name), {a});
  Value r = PoisonValue::get(a->getType());
  for (unsigned l = 0; l < lanes; ++l)
    r = k.b.CreateInsertElement(
        r, k.b.CreateCall(k.libm(name), {k.b.CreateExtractElement(a, l)}), l);
  return r;
}

} // namespace nn::cpu
