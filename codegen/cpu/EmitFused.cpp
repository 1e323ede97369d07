//===- EmitFused.cpp - The loop nests of the fused ops --------------------===//
///
/// \file
/// Kernels for the fused ops of ir/Ops.def, with the semantics written there
/// (and evaluated by runtime/Interpreter.cpp): dense layers with the bias
/// and activation applied as each result row is finished, gradient matmuls
/// that read transposed operands in place and fold the activation gradient
/// into the operand loads (and, for a weight gradient, its bias gradient in
/// the same pass), the loss gradients, the optimizer updates (EmitUpdates.cpp),
/// and chains of elementwise ops in one loop. Per-element math: ir/FusedMath.h.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <algorithm>

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;
using Dims = std::vector<int64_t>;

namespace {

/// Element (i, j) of a row-major [rows, cols] operand `op`, or of its
/// transpose when `trans` (then the stored operand is [cols, rows]).
Val matrixAt(KernelEmitter &k, size_t op, Val i, Val j, Val rows, Val cols,
             bool trans) {
  IRBuilder<> &b = k.b;
  Val idx = trans ? b.CreateAdd(b.CreateMul(j, rows), i)
                  : b.CreateAdd(b.CreateMul(i, cols), j);
  return k.load(op, idx);
}

/// act(x @ w + b).
void emitDense(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  const Dims &x = k.inType(0).dims, &w = k.inType(1).dims;
  NN_ASSERT(x.size() >= 1 && x.size() <= 2 && w.size() >= 1 && w.size() <= 2,
            "fused.dense of " + dimsStr(x) + " and " + dimsStr(w));
  Val m = x.size() == 1 ? k.i64(1) : k.dim(x[0]);
  Val kk = k.dim(x.back());
  Val n = w.size() == 1 ? k.i64(1) : k.dim(w[1]);
  // The bias's strides along the product's rows (i) and columns (j).
  const Dims &out = k.node.type.dims;
  std::vector<Val> s = k.in[2].constant
                           ? std::vector<Val>(out.size(), k.i64(0))
                           : broadcastStrides(k, k.inType(2).dims, out);
  Val si = k.i64(0), sj = k.i64(0);
  if (out.size() == 2) {
    si = s[0];
    sj = s[1];
  } else if (out.size() == 1) {
    (x.size() == 2 ? si : sj) = s[0];
  }
  EpilogueFn epi = [&](Val i, Val j, Val acc) {
    Val bias = k.load(2, b.CreateAdd(b.CreateMul(i, si), b.CreateMul(j, sj)));
    return emitActivation(math, k.node.act, math.add(acc, bias), k.node.param);
  };
  GemmSpec gemm(m, kk, n);
  gemm.a = [&](Val i, Val p) { return matrixAt(k, 0, i, p, m, kk, false); };
  gemm.b = [&](Val p, Val j) { return matrixAt(k, 1, p, j, kk, n, false); };
  gemm.epilogue = &epi;
  // Whole tiles: eight columns at a time, the bias a vector (a row of
  // [n], read in place) or one value.
  auto *sjc = dyn_cast<ConstantInt>(sj);
  if (k.in[2].constant || (sjc && (sjc->isZero() || sjc->isOne()))) {
    gemm.vecEpilogue = [&](Val i, Val j, Val acc) {
      LlvmMath vmath{k, 8};
      Val bias;
      if (k.in[2].constant) {
        bias = vmath.constant(*k.in[2].constant);
      } else if (sjc->isZero()) {
        bias = b.CreateVectorSplat(8, k.load(2, b.CreateMul(i, si)));
      } else {
        Val at = b.CreateInBoundsGEP(k.f32(), k.in[2].ptr,
                                     b.CreateAdd(b.CreateMul(i, si), j));
        bias = b.CreateAlignedLoad(FixedVectorType::get(k.f32(), 8), at,
                                   Align(4));
      }
      return emitActivation(vmath, k.node.act, vmath.add(acc, bias),
                            k.node.param);
    };
  }
  gemm.aBase = k.in[0].ptr;
  gemm.aRowStride = kk;
  gemm.aColStride = k.i64(1);
  emitGemm(k, gemm);
}

/// op(a) @ op(b), transposes read in place.
void emitFusedMatMul(KernelEmitter &k) {
  const Dims &a = k.inType(0).dims, &bd = k.inType(1).dims;
  bool ta = k.node.transA, tb = k.node.transB;
  NN_ASSERT((a.size() == 2 || (a.size() == 1 && !ta)) &&
                (bd.size() == 2 || (bd.size() == 1 && !tb)),
            "fused.matmul of " + dimsStr(a) + " and " + dimsStr(bd));
  // op(a) is [m, kk], op(b) is [kk, n].
  Val m = a.size() == 1 ? k.i64(1) : k.dim(ta ? a[1] : a[0]);
  Val kk = k.dim(ta ? a[0] : a.back());
  Val n = bd.size() == 1 ? k.i64(1) : k.dim(tb ? bd[0] : bd[1]);
  GemmSpec gemm(m, kk, n);
  gemm.a = [&](Val i, Val p) { return matrixAt(k, 0, i, p, m, kk, ta); };
  gemm.b = [&](Val p, Val j) { return matrixAt(k, 1, p, j, kk, n, tb); };
  gemm.aBase = k.in[0].ptr; // [m, kk], or [kk, m] read transposed
  gemm.aRowStride = ta ? k.i64(1) : kk;
  gemm.aColStride = ta ? m : k.i64(1);
  emitGemm(k, gemm);
}

/// da * act'(a) at flat index `idx` of operands `daOp`, `aOp` (`a` is z
/// for an activation whose derivative is written in its input).
Val maskedAt(KernelEmitter &k, size_t daOp, size_t aOp, Val idx) {
  LlvmMath math{k};
  Val da = k.load(daOp, idx);
  Val a = k.load(aOp, idx);
  return math.mul(da, emitActivationGrad(math, k.node.act, a, k.node.param));
}

/// (da * act'(a)) @ w^T: da, a [m,n], w [kout,n] -> [m,kout].
void emitDenseGradInput(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const Dims &da = k.inType(0).dims, &w = k.inType(2).dims;
  NN_ASSERT(da.size() == 2 && w.size() == 2,
            "fused.dense_grad_input of " + dimsStr(da) + " and " + dimsStr(w));
  Val m = k.dim(da[0]), n = k.dim(da[1]), kout = k.dim(w[0]);
  GemmSpec gemm(m, n, kout);
  gemm.a = [&](Val i, Val p) {
    return maskedAt(k, 0, 1, b.CreateAdd(b.CreateMul(i, n), p));
  };
  gemm.b = [&](Val p, Val j) { return matrixAt(k, 2, p, j, n, kout, true); };
  gemm.packA = true;
  emitGemm(k, gemm);
}

/// x^T @ (da * act'(a)): x [m,kin], da, a [m,n] or [m] -> [kin,n] or [kin].
void emitDenseGradWeight(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const Dims &x = k.inType(0).dims, &da = k.inType(1).dims;
  NN_ASSERT(x.size() == 2 && (da.size() == 1 || da.size() == 2),
            "fused.dense_grad_weight of " + dimsStr(x) + " and " +
                dimsStr(da));
  Val m = k.dim(x[0]), kin = k.dim(x[1]);
  Val n = da.size() == 1 ? k.i64(1) : k.dim(da[1]);
  GemmSpec gemm(kin, m, n);
  gemm.a = [&](Val i, Val p) { return matrixAt(k, 0, i, p, kin, m, true); };
  gemm.b = [&](Val p, Val j) {
    return maskedAt(k, 1, 2, b.CreateAdd(b.CreateMul(p, n), j));
  };
  gemm.aBase = k.in[0].ptr; // x [m, kin] read transposed
  gemm.aRowStride = k.i64(1);
  gemm.aColStride = kin;
  emitGemm(k, gemm);
}

/// Column sums of da * act'(a): [m,n] -> [n] (in double, rows in order).
void emitDenseGradBias(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const Dims &da = k.inType(0).dims;
  NN_ASSERT(da.size() == 2, "fused.dense_grad_bias of " + dimsStr(da));
  Val m = k.dim(da[0]), n = k.dim(da[1]);
  k.loop(n, "j", [&](Val j) {
    Val acc = k.accumulator("acc");
    k.loop(m, "i", [&](Val i) {
      k.accumulate(acc, maskedAt(k, 0, 1, b.CreateAdd(b.CreateMul(i, n), j)));
    });
    k.store(j, b.CreateFPTrunc(b.CreateLoad(k.f64(), acc), k.f32()));
  });
}

/// The right operand d of a weight gradient: da * act'(a) for
/// fused.dense_grad_weight (operands 1, 2), operand 1 itself for the
/// fused.matmul x^T @ d; element (p, j) of a [m, n] d.
Val gradRightAt(KernelEmitter &k, Val p, Val j, Val n) {
  IRBuilder<> &b = k.b;
  Val idx = b.CreateAdd(b.CreateMul(p, n), j);
  return k.node.op == OpKind::DenseGradWeight ? maskedAt(k, 1, 2, idx)
                                              : k.load(1, idx);
}

} // namespace

bool isGradBiasPair(const Graph &g, NodeId w, NodeId bias) {
  const Node &wn = g[w], &bn = g[bias];
  NodeId d = -1;
  if (wn.op == OpKind::DenseGradWeight && bn.op == OpKind::DenseGradBias &&
      wn.inputs[1] == bn.inputs[0] && wn.inputs[2] == bn.inputs[1] &&
      wn.act == bn.act && wn.param == bn.param)
    d = bn.inputs[0];
  else if (wn.op == OpKind::FusedMatMul && wn.transA && !wn.transB &&
           bn.op == OpKind::Sum && bn.axis == 0 && wn.inputs[1] == bn.inputs[0])
    d = bn.inputs[0];
  if (d < 0)
    return false;
  const Dims &x = g[wn.inputs[0]].type.dims, &dd = g[d].type.dims;
  auto fixed = [](int64_t v) { return v != kBatch && v >= 1; };
  return x.size() == 2 && dd.size() == 2 && fixed(x[1]) && fixed(dd[1]) &&
         dd[1] <= kMaxPairCols && x[0] == dd[0] &&
         wn.type.dims == Dims({x[1], dd[1]}) &&
         bn.type.dims == Dims({dd[1]});
}

void emitGradWithBias(KernelEmitter &k, Val biasOut) {
  IRBuilder<> &b = k.b;
  const Dims &x = k.inType(0).dims, &d = k.inType(1).dims;
  NN_ASSERT(x.size() == 2 && d.size() == 2 && x[1] != kBatch &&
                d[1] != kBatch && d[1] <= kMaxPairCols,
            "weight and bias gradient of " + dimsStr(x) + " and " +
                dimsStr(d));
  // The result is [kin, n] = x^T @ d, x [m, kin] read transposed in place;
  // d's column sums (in double, rows in order, as the separate kernel sums
  // them) are taken as d is packed, each element once.
  Val m = k.dim(x[0]), kin = k.i64(x[1]), n = k.i64(d[1]);
  Val sums = k.slot(ArrayType::get(k.f64(), static_cast<uint64_t>(d[1])),
                    "bsum");
  k.loop(n, "j", [&](Val j) {
    b.CreateStore(ConstantFP::get(k.f64(), 0.0),
                  b.CreateInBoundsGEP(k.f64(), sums, j));
  });
  GemmSpec gemm(kin, m, n);
  gemm.a = [&](Val i, Val p) { return matrixAt(k, 0, i, p, kin, m, true); };
  gemm.b = [&](Val p, Val j) { return gradRightAt(k, p, j, n); };
  gemm.aBase = k.in[0].ptr; // x [m, kin] read transposed
  gemm.aRowStride = k.i64(1);
  gemm.aColStride = kin;
  gemm.onB = [&](Val, Val j, Val v) {
    k.accumulate(b.CreateInBoundsGEP(k.f64(), sums, j), v);
  };
  emitGemm(k, gemm);
  // This task's columns: those onB saw.
  auto [from, to] = gemmColumns(k, n);
  Val count = b.CreateSub(to, from);
  k.loop(b.CreateSelect(b.CreateICmpSGT(count, k.i64(0)), count, k.i64(0)),
         "j", [&](Val jj) {
           Val j = b.CreateAdd(from, jj);
           Val v = b.CreateLoad(k.f64(), b.CreateInBoundsGEP(k.f64(), sums, j));
           k.storeTo(biasOut, j, b.CreateFPTrunc(v, k.f32()));
         });
}

namespace {

/// The upstream gradient g (operand `op`, a scalar) divided by `count`, as
/// the interpreter computes it (in double), rounded to float.
Val scaleOf(KernelEmitter &k, size_t op, Val count) {
  IRBuilder<> &b = k.b;
  Val g = b.CreateFPExt(k.load(op, k.i64(0)), k.f64());
  return b.CreateFPTrunc(b.CreateFDiv(g, b.CreateSIToFP(count, k.f64())),
                         k.f32());
}

/// (softmax(z) - onehot(y)) * (g / rows). Each exp(z - max) is computed
/// once: written to the result while the row's sum is taken (in double, in
/// order, as rowMaxAndSum sums), then read back and divided by the sum: the
/// same bits as computing it twice, half the libm calls (the result and z
/// share a slot only exactly, and each z is read before its slot is written).
void emitSoftmaxXentGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  const Dims &z = k.inType(0).dims;
  NN_ASSERT(!z.empty(), "fused.softmax_xent_grad of a scalar");
  Val c = k.dim(z.back());
  Val rows = k.product(z, 0, z.size() - 1);
  Val scale = scaleOf(k, 2, rows);
  k.loop(rows, "r", [&](Val r) {
    Val base = b.CreateMul(r, c);
    Val m = k.slot(k.f32(), "max");
    b.CreateStore(k.load(0, base), m);
    k.loop(c, "j", [&](Val j) {
      Val v = k.load(0, b.CreateAdd(base, j));
      b.CreateStore(emitMax(math, v, b.CreateLoad(k.f32(), m)), m);
    });
    Val mx = b.CreateLoad(k.f32(), m);
    Val acc = k.accumulator("sum");
    k.loop(c, "j", [&](Val j) {
      Val idx = b.CreateAdd(base, j);
      Val e = emitExpShifted(math, k.load(0, idx), mx);
      k.store(idx, e);
      k.accumulate(acc, e);
    });
    Val s = b.CreateFPTrunc(b.CreateLoad(k.f64(), acc), k.f32());
    auto [id, ok] = classIndex(k, k.load(1, r), c);
    k.loop(c, "j", [&](Val j) {
      Val idx = b.CreateAdd(base, j);
      Val e = b.CreateLoad(k.f32(), b.CreateInBoundsGEP(k.f32(), k.out, idx));
      Val sm = b.CreateFDiv(e, s);
      Val hot = b.CreateSelect(b.CreateAnd(ok, b.CreateICmpEQ(id, j)),
                               k.f32(1), k.f32(0));
      k.store(idx, b.CreateFMul(b.CreateFSub(sm, hot), scale));
    });
  });
}

/// (sigmoid(z) - y) * (g / numel(z)).
void emitSigmoidBceGrad(KernelEmitter &k) {
  LlvmMath math{k};
  Val n = k.numel(k.inType(0));
  Val scale = scaleOf(k, 2, n);
  k.loop(n, "i", [&](Val i) {
    Val s = emitSigmoid(math, k.load(0, i));
    Val d = math.sub(s, k.load(1, i));
    k.store(i, math.mul(d, scale));
  });
}

/// An emitter (ir/ElementwiseMath.h) that emits nothing and notes whether a
/// body calls libm (tanh, log1p, erf: calls no loop vectorizer can widen;
/// exp, log and sqrt are LLVM intrinsics).
struct LibmProbe {
  using Value = int;
  bool calls = false;
  Value constant(double) { return 0; }
  Value neg(Value) { return 0; }
  Value add(Value, Value) { return 0; }
  Value sub(Value, Value) { return 0; }
  Value mul(Value, Value) { return 0; }
  Value div(Value, Value) { return 0; }
  Value exp(Value) { return 0; }
  Value log(Value) { return 0; }
  Value sqrt(Value) { return 0; }
  Value log1p(Value) { return note(); }
  Value tanh(Value) { return note(); }
  Value erf(Value) { return note(); }
  Value selectGt(Value, Value, Value, Value) { return 0; }
  Value note() {
    calls = true;
    return 0;
  }
};

constexpr unsigned kChainLanes = 8;

/// A flat fused.elementwise whose body calls libm, in explicit vectors of
/// kChainLanes (libm called lane by lane, everything else vector ops: the
/// same IEEE operations on each element, so the same bits), then a scalar
/// tail. LLVM does not vectorize a loop with a libm call, and the scalar
/// loop is latency-bound: each element's tanhf, then the arithmetic and
/// exp between the calls, one element after the other. The unfused kernels
/// did the arithmetic in vectors and called libm back to back.
void emitVectorChain(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  Val n = k.numel(k.node.type);
  Val begin = b.CreateSDiv(b.CreateMul(k.part, n), k.parts);
  Val end = b.CreateSDiv(b.CreateMul(b.CreateAdd(k.part, k.i64(1)), n),
                         k.parts);
  Val count = b.CreateSub(end, begin);
  Val vecs = b.CreateSDiv(count, k.i64(kChainLanes));
  auto *vty = FixedVectorType::get(k.f32(), kChainLanes);
  LlvmMath vmath{k, kChainLanes};
  k.loop(vecs, "v", [&](Val v) {
    Val i = b.CreateAdd(begin, b.CreateMul(v, k.i64(kChainLanes)));
    std::vector<Val> args;
    for (size_t j = 0; j < k.in.size(); ++j)
      args.push_back(
          isSingle(k, j)
              ? b.CreateVectorSplat(kChainLanes, k.load(j, k.i64(0)))
              : b.CreateAlignedLoad(
                    vty, b.CreateInBoundsGEP(k.f32(), k.in[j].ptr, i),
                    Align(4)));
    Val r = emitFusedBody(vmath, k.node.body, std::span<const Val>(args));
    b.CreateAlignedStore(r, b.CreateInBoundsGEP(k.f32(), k.out, i), Align(4));
  });
  LlvmMath math{k};
  Val tail = b.CreateAdd(begin, b.CreateMul(vecs, k.i64(kChainLanes)));
  k.loop(b.CreateSub(end, tail), "i", [&](Val t) {
    Val i = b.CreateAdd(tail, t);
    std::vector<Val> args;
    for (size_t j = 0; j < k.in.size(); ++j)
      args.push_back(k.load(j, isSingle(k, j) ? k.i64(0) : i));
    k.store(i, emitFusedBody(math, k.node.body, std::span<const Val>(args)));
  });
}

/// The same for a broadcasting body of rank >= 2: the loop nest over all
/// but the last dimension (split along the first), and along the last one
/// vectors and a tail; an operand moves along it (stride 1: a vector load)
/// or is one value there (stride 0: splat).
void emitVectorChainNest(KernelEmitter &k,
                         const std::vector<std::vector<Val>> &strides) {
  IRBuilder<> &b = k.b;
  const Dims &out = k.node.type.dims;
  Dims outer(out.begin(), out.end() - 1);
  std::vector<std::vector<Val>> outerStrides;
  std::vector<bool> moves;
  for (const std::vector<Val> &s : strides) {
    outerStrides.emplace_back(s.begin(), s.end() - 1);
    moves.push_back(!cast<ConstantInt>(s.back())->isZero()); // 0 or 1
  }
  Val inner = k.dim(out.back());
  Val vecs = b.CreateSDiv(inner, k.i64(kChainLanes));
  auto *vty = FixedVectorType::get(k.f32(), kChainLanes);
  LlvmMath vmath{k, kChainLanes}, math{k};
  auto row = [&](Val flat, std::vector<Val> offs) {
    Val base = b.CreateMul(flat, inner);
    k.loop(vecs, "v", [&](Val v) {
      Val j = b.CreateMul(v, k.i64(kChainLanes));
      std::vector<Val> args;
      for (size_t o = 0; o < k.in.size(); ++o)
        args.push_back(
            moves[o] ? b.CreateAlignedLoad(
                           vty,
                           b.CreateInBoundsGEP(k.f32(), k.in[o].ptr,
                                               b.CreateAdd(offs[o], j)),
                           Align(4))
                     : b.CreateVectorSplat(kChainLanes, k.load(o, offs[o])));
      Val r = emitFusedBody(vmath, k.node.body, std::span<const Val>(args));
      b.CreateAlignedStore(
          r, b.CreateInBoundsGEP(k.f32(), k.out, b.CreateAdd(base, j)),
          Align(4));
    });
    Val from = b.CreateMul(vecs, k.i64(kChainLanes));
    k.loop(b.CreateSub(inner, from), "j", [&](Val t) {
      Val j = b.CreateAdd(from, t);
      std::vector<Val> args;
      for (size_t o = 0; o < k.in.size(); ++o)
        args.push_back(
            k.load(o, moves[o] ? b.CreateAdd(offs[o], j) : offs[o]));
      k.store(b.CreateAdd(base, j),
              emitFusedBody(math, k.node.body, std::span<const Val>(args)));
    });
  };
  k.stridedLoop(outer, outerStrides, row, /*splitOuter=*/true);
}

/// A fused.elementwise: in explicit vectors when its body calls libm (a
/// flat loop, or a broadcasting nest of rank >= 2), else the loop LLVM
/// vectorizes itself.
void emitFusedElementwise(KernelEmitter &k) {
  LibmProbe probe;
  std::vector<int> ops(k.in.size(), 0);
  emitFusedBody(probe, k.node.body, std::span<const int>(ops));
  const Dims &out = k.node.type.dims;
  bool flat = true;
  for (size_t i = 0; i < k.in.size(); ++i)
    flat &= isSingle(k, i) || k.inType(i).dims == out;
  if (probe.calls && flat)
    return emitVectorChain(k);
  if (probe.calls && out.size() >= 2) {
    std::vector<std::vector<Val>> strides;
    bool unitOrZero = true;
    for (size_t j = 0; j < k.in.size(); ++j) {
      strides.push_back(k.in[j].constant
                            ? std::vector<Val>(out.size(), k.i64(0))
                            : broadcastStrides(k, k.inType(j).dims, out));
      auto *c = dyn_cast<ConstantInt>(strides.back().back());
      unitOrZero &= c && (c->isZero() || c->isOne());
    }
    if (unitOrZero)
      return emitVectorChainNest(k, strides);
  }
  LlvmMath math{k};
  emitBroadcastLoop(k, [&](const std::vector<Val> &args) {
    return emitFusedBody(math, k.node.body, std::span<const Val>(args));
  });
}

/// The kernel of a dense-layer op.
void emitDenseKernel(KernelEmitter &k) {
  switch (member<DenseOp>(k.node.op)) {
  case DenseOp::Dense:
    return emitDense(k);
  case DenseOp::FusedMatMul:
    return emitFusedMatMul(k);
  case DenseOp::DenseGradInput:
    return emitDenseGradInput(k);
  case DenseOp::DenseGradWeight:
    return emitDenseGradWeight(k);
  case DenseOp::DenseGradBias:
    return emitDenseGradBias(k);
  }
  NN_UNREACHABLE("bad DenseOp");
}

/// The kernel of a fused loss gradient.
void emitLossGradKernel(KernelEmitter &k) {
  switch (member<LossGradOp>(k.node.op)) {
  case LossGradOp::SoftmaxXentGrad:
    return emitSoftmaxXentGrad(k);
  case LossGradOp::SigmoidBceGrad:
    return emitSigmoidBceGrad(k);
  }
  NN_UNREACHABLE("bad LossGradOp");
}

} // namespace

void emitFusedKernel(KernelEmitter &k) {
  switch (family(k.node.op)) {
  case OpFamily::Dense:
    return emitDenseKernel(k);
  case OpFamily::LossGrad:
    return emitLossGradKernel(k);
  case OpFamily::Update:
    return emitUpdateKernel(k);
  case OpFamily::FusedElementwise:
    return emitFusedElementwise(k);
  case OpFamily::Leaf:
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
    break;
  }
  NN_UNREACHABLE(std::string("not a fused op: ") + mnemonic(k.node.op));
}

} // namespace nn::cpu
