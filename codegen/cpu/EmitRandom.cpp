//===- EmitRandom.cpp - The random ops' kernels in LLVM IR ----------------===//
///
/// \file
/// Dropout as one flat loop, split between threads like the elementwise
/// kernels: per element, its index in the global batch (the first row
/// operand times the row's width, plus its own), the Philox 4x32-10 block
/// of its group of four (ir/Philox.h, the same template the interpreter
/// runs, here on i32 LLVM values: the products as i64 multiplies of
/// zero-extended words), its word compared with the integer threshold of
/// p, the float scale or 0 selected, x multiplied by it. Integer ops
/// only, no calls: the loop vectorizer vectorizes it.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/Philox.h"
#include "ir/Support.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// The integer emitter of ir/Philox.h on i32 LLVM values.
struct LlvmWords {
  using Value = Val;
  KernelEmitter &k;
  Value constant(uint32_t v) { return k.b.getInt32(v); }
  Value mulHi(Value a, Value b) {
    Val p = k.b.CreateMul(k.b.CreateZExt(a, k.b.getInt64Ty()),
                          k.b.CreateZExt(b, k.b.getInt64Ty()));
    return k.b.CreateTrunc(k.b.CreateLShr(p, 32), k.b.getInt32Ty());
  }
  Value mulLo(Value a, Value b) { return k.b.CreateMul(a, b); }
  Value bitXor(Value a, Value b) { return k.b.CreateXor(a, b); }
};

/// Scalar operand `operand` as an unsigned integer of type `ty`, 0 unless
/// positive (philox::stepWord, philox::firstRowWord).
Val wholeNumber(KernelEmitter &k, int operand, Type *ty) {
  IRBuilder<> &b = k.b;
  Val s = k.load(operand, k.i64(0));
  return b.CreateSelect(b.CreateFCmpOGT(s, k.f32(0.0)), b.CreateFPToUI(s, ty),
                        ConstantInt::get(ty, 0));
}

/// The global batch index of element 0 (philox::globalIndex): the first
/// row operand times the row's width; null for a tensor without a batch
/// dimension (its elements' own indices).
Val firstIndex(KernelEmitter &k) {
  int64_t width = philox::dropoutRowWidth(k.node.type);
  if (width == 0)
    return nullptr;
  return k.b.CreateMul(wholeNumber(k, 2, k.b.getInt64Ty()), k.i64(width));
}

/// out = x * (keep ? scale : 0), keep drawn per element (ir/Philox.h).
void emitDropout(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const Node &n = k.node;
  LlvmWords words{k};
  Val step = wholeNumber(k, 1, b.getInt32Ty());
  Val first = firstIndex(k);
  Val stream = b.getInt32(static_cast<uint32_t>(n.stream));
  Val threshold = b.getInt32(philox::keepThreshold(n.param));
  Val scale = k.f32(philox::dropoutScale(n.param));
  Val zero = k.f32(0.0);
  k.splitLoop(k.numel(n.type), "i", [&](Val i) {
    Val global = first ? b.CreateAdd(first, i) : i;
    Val g = b.CreateLShr(global, 2);
    std::array<Val, 4> w = philox::block(
        words,
        {b.CreateTrunc(g, b.getInt32Ty()),
         b.CreateTrunc(b.CreateLShr(g, 32), b.getInt32Ty()), step, stream},
        philox::keyLo(n.seed), philox::keyHi(n.seed));
    Val lane = b.CreateTrunc(b.CreateAnd(global, 3), b.getInt32Ty());
    Val word = w[3];
    for (uint32_t l = 3; l-- > 0;)
      word = b.CreateSelect(b.CreateICmpEQ(lane, b.getInt32(l)), w[l], word);
    Val keep = b.CreateICmpUGE(b.CreateLShr(word, 8), threshold);
    k.store(i, b.CreateFMul(k.load(0, i), b.CreateSelect(keep, scale, zero)));
  });
}

} // namespace

void emitRandomKernel(KernelEmitter &k) {
  switch (member<RandomOp>(k.node.op)) {
  case RandomOp::Dropout:
    return emitDropout(k);
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn::cpu
