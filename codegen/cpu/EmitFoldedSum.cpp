//===- EmitFoldedSum.cpp - A sum that computes its operand ----------------===//
///
/// \file
/// A sum (or mean) over every element whose operand is an elementwise
/// expression nothing else reads (isFoldedIntoSum, passes/UpdateChains.h;
/// l2's sum(mul(w, w))): one loop reads the expression's operands, computes
/// it 8 elements at a time and adds them into the sum's double lanes
/// (emitSumAll), so the squares are never stored nor read back. The
/// expression is exact arithmetic, whose vector and scalar code give the
/// same bits, and the lanes are summed as the sum's own kernel sums its
/// operand: the result is bit for bit that of the two kernels.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "passes/UpdateChains.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

BasicBlock *emitFoldedSum(Module &m, Function *f, const Graph &g,
                          NodeId operand, NodeId sum,
                          const OperandsFn &operands, const BufferFn &buffer,
                          BasicBlock *at) {
  KernelEmitter k(m, f, g, sum, operands(sum), buffer(sum), at);
  IRBuilder<> &b = k.b;
  const Node &e = g[operand];
  std::vector<Operand> in = operands(operand);
  // Scalar operands: one value, loaded before the loop.
  std::vector<Val> scalar(in.size(), nullptr);
  for (size_t t = 0; t < in.size(); ++t)
    if (in[t].constant)
      scalar[t] = k.f32(*in[t].constant);
    else if (in[t].node->type.isScalar())
      scalar[t] = b.CreateLoad(k.f32(), in[t].ptr);
  auto *fv = FixedVectorType::get(k.f32(), 8);
  auto chunk = [&](Val first) {
    std::vector<Val> args;
    for (size_t t = 0; t < in.size(); ++t)
      args.push_back(scalar[t] ? b.CreateVectorSplat(8, scalar[t])
                               : b.CreateAlignedLoad(
                                     fv,
                                     b.CreateInBoundsGEP(k.f32(), in[t].ptr,
                                                         first),
                                     Align(4)));
    LlvmMath math{k, 8};
    return emitChainMember(math, e, std::span<const Val>(args));
  };
  auto one = [&](Val i) {
    std::vector<Val> args;
    for (size_t t = 0; t < in.size(); ++t)
      args.push_back(scalar[t] ? scalar[t]
                               : b.CreateLoad(k.f32(), b.CreateInBoundsGEP(
                                                           k.f32(), in[t].ptr,
                                                           i)));
    LlvmMath math{k};
    return emitChainMember(math, e, std::span<const Val>(args));
  };
  emitSumAll(k, g[sum].op == OpKind::Mean, k.numel(e.type), chunk, one);
  return b.GetInsertBlock();
}

} // namespace nn::cpu
