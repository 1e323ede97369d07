//===- EmitGemm.cpp - Register-blocked matrix products --------------------===//
///
/// \file
/// out[i][j] = epilogue(i, j, sum_p a(i, p) * b(p, j)) as the Goto/BLIS loop
/// nest, every level emitted as LLVM IR:
///
///   for jc: column blocks of kNc (this task's share of the column panels)
///     for pc: depth blocks of kKc; b's block packed into panels of kNr
///             columns (transposes read in place and folded activation
///             gradients applied while packing: the prologue)
///       for ic: row blocks of kMc (a packed too when it is computed)
///         for jr, ir: a kMr x kNr micro-kernel, 2 x kMr <8 x float>
///                     accumulators held in ymm registers, one broadcast of
///                     a and two loads of b per FMA row
///   then the epilogue (bias, activation) on each finished tile.
///
/// Each element sums its terms in the order p = 0, 1, ..., k-1, one fused
/// multiply-add per term: a depth block's accumulators start from the sum of
/// the blocks before it. So the result does not depend on the block sizes,
/// nor on how the column panels are split between threads: the same bits for
/// any thread count. Pack buffers live on the kernel's stack (kKc x kNc and
/// kMc x kKc floats, 352 KiB).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

constexpr int64_t kMr = 6;    ///< micro-kernel rows
constexpr int64_t kNr = 16;   ///< micro-kernel columns (two <8 x float>)
constexpr int64_t kKc = 256;  ///< depth of a block (b's panel fits L1)
constexpr int64_t kMc = 96;   ///< rows of a block of a (a multiple of kMr)
constexpr int64_t kNc = 256;  ///< columns of b's packed block (of kNr)
constexpr unsigned kLanes = 8;

/// Emits the loops of one product; the state every level shares.
class GemmEmitter {
public:
  GemmEmitter(KernelEmitter &k, const GemmSpec &s)
      : k(k), b(k.b), s(s), vec(FixedVectorType::get(k.f32(), kLanes)) {}

  void emit();

private:
  Val min(Val x, Val y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Val ceilDiv(Val x, int64_t d) {
    return b.CreateSDiv(b.CreateAdd(x, k.i64(d - 1)), k.i64(d));
  }
  /// if (cond) then() else otherwise().
  void branch(Val cond, const std::function<void()> &then,
              const std::function<void()> &otherwise);
  Val at(Val base, Val idx) { return b.CreateInBoundsGEP(k.f32(), base, idx); }
  Val fmaVec(Val a, Val x, Val acc) {
    return b.CreateIntrinsic(Intrinsic::fmuladd, {vec}, {a, x, acc});
  }

  void packB(Val j0, Val ncb, Val p0, Val kcb);
  void packA(Val i0, Val mcb, Val p0, Val kcb);
  void microKernel(Val i, Val j, Val rows, Val cols, Val bPanel, Val aPanel,
                   Val p0, Val kcb, Val first, Val last);

  KernelEmitter &k;
  IRBuilder<> &b;
  const GemmSpec &s;
  Type *vec;
  Val bPack = nullptr, aPack = nullptr, tile = nullptr;
  Val acc[kMr][2] = {};
};

void GemmEmitter::branch(Val cond, const std::function<void()> &then,
                         const std::function<void()> &otherwise) {
  Function *f = b.GetInsertBlock()->getParent();
  LLVMContext &ctx = b.getContext();
  BasicBlock *t = BasicBlock::Create(ctx, "then", f);
  BasicBlock *e = BasicBlock::Create(ctx, "else", f);
  BasicBlock *done = BasicBlock::Create(ctx, "endif", f);
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

/// bPack[(jp * kcb + p) * kNr + jj] = b(p0 + p, j0 + jp * kNr + jj), zero
/// past column n. Full panels copy without a bounds check (contiguous rows
/// vectorize); onB sees each element once, p ascending for every column.
void GemmEmitter::packB(Val j0, Val ncb, Val p0, Val kcb) {
  k.loop(ceilDiv(ncb, kNr), "jp", [&](Val jp) {
    Val jbase = b.CreateAdd(j0, b.CreateMul(jp, k.i64(kNr)));
    Val panel = b.CreateMul(b.CreateMul(jp, kcb), k.i64(kNr));
    auto fill = [&](bool guarded) {
      k.loop(kcb, "pp", [&](Val p) {
        Val row = b.CreateAdd(panel, b.CreateMul(p, k.i64(kNr)));
        k.loop(k.i64(kNr), "jj", [&](Val jj) {
          Val j = b.CreateAdd(jbase, jj);
          Val dst = at(bPack, b.CreateAdd(row, jj));
          auto copy = [&] {
            Val v = s.b(b.CreateAdd(p0, p), j);
            b.CreateStore(v, dst);
            if (s.onB)
              s.onB(b.CreateAdd(p0, p), j, v);
          };
          if (!guarded)
            return copy();
          branch(b.CreateICmpSLT(j, s.n), copy,
                 [&] { b.CreateStore(k.f32(0), dst); });
        });
      });
    };
    branch(b.CreateICmpSLE(b.CreateAdd(jbase, k.i64(kNr)), s.n),
           [&] { fill(false); }, [&] { fill(true); });
  });
}

/// aPack[(ip * kcb + p) * kMr + r] = a(i0 + ip * kMr + r, p0 + p), zero past
/// row m.
void GemmEmitter::packA(Val i0, Val mcb, Val p0, Val kcb) {
  k.loop(ceilDiv(mcb, kMr), "ip", [&](Val ip) {
    Val ibase = b.CreateAdd(i0, b.CreateMul(ip, k.i64(kMr)));
    Val panel = b.CreateMul(b.CreateMul(ip, kcb), k.i64(kMr));
    k.loop(kcb, "pp", [&](Val p) {
      for (int64_t r = 0; r < kMr; ++r) {
        Val i = b.CreateAdd(ibase, k.i64(r));
        Val dst = at(aPack, b.CreateAdd(b.CreateAdd(panel, b.CreateMul(
                                                       p, k.i64(kMr))),
                                        k.i64(r)));
        branch(b.CreateICmpSLT(i, s.m),
               [&] { b.CreateStore(s.a(i, b.CreateAdd(p0, p)), dst); },
               [&] { b.CreateStore(k.f32(0), dst); });
      }
    });
  });
}

/// The kMr x kNr tile at (i, j), `rows` x `cols` of it inside the result,
/// over depths [p0, p0 + kcb): accumulators from 0 (`first`) or from the
/// tile, kcb FMA rows, back to the tile, and the epilogue when `last`.
void GemmEmitter::microKernel(Val i, Val j, Val rows, Val cols, Val bPanel,
                              Val aPanel, Val p0, Val kcb, Val first,
                              Val last) {
  Val full = b.CreateAnd(b.CreateICmpEQ(rows, k.i64(kMr)),
                         b.CreateICmpEQ(cols, k.i64(kNr)));
  auto rowPtr = [&](int64_t r) {
    return at(k.out, b.CreateAdd(b.CreateMul(b.CreateAdd(i, k.i64(r)), s.n),
                                 j));
  };
  // Partial tiles go through `tile` (kMr x kNr floats) element by element.
  auto edgeCopy = [&](bool toTile) {
    k.loop(rows, "er", [&](Val r) {
      k.loop(cols, "ec", [&](Val c) {
        Val o = at(k.out, b.CreateAdd(
                              b.CreateMul(b.CreateAdd(i, r), s.n),
                              b.CreateAdd(j, c)));
        Val t = at(tile, b.CreateAdd(b.CreateMul(r, k.i64(kNr)), c));
        Val src = toTile ? o : t, dst = toTile ? t : o;
        b.CreateStore(b.CreateLoad(k.f32(), src), dst);
      });
    });
  };
  Val zero = ConstantAggregateZero::get(vec);
  branch(first,
         [&] {
           for (auto &row : acc)
             for (Val a : row)
               b.CreateStore(zero, a);
         },
         [&] {
           branch(full,
                  [&] {
                    for (int64_t r = 0; r < kMr; ++r)
                      for (int v = 0; v < 2; ++v)
                        b.CreateStore(
                            b.CreateAlignedLoad(
                                vec, at(rowPtr(r), k.i64(v * kLanes)),
                                Align(4)),
                            acc[r][v]);
                  },
                  [&] {
                    for (int64_t e = 0; e < kMr * kNr; ++e)
                      b.CreateStore(k.f32(0), at(tile, k.i64(e)));
                    edgeCopy(true);
                    for (int64_t r = 0; r < kMr; ++r)
                      for (int v = 0; v < 2; ++v)
                        b.CreateStore(
                            b.CreateAlignedLoad(
                                vec, at(tile, k.i64(r * kNr + v * kLanes)),
                                Align(4)),
                            acc[r][v]);
                  });
         });
  // Rows past m read row m - 1 of a direct operand (their sums are dropped).
  Val lastRow = b.CreateSub(s.m, k.i64(1));
  k.loop(kcb, "p", [&](Val p) {
    Val brow = at(bPanel, b.CreateMul(p, k.i64(kNr)));
    Val b0 = b.CreateAlignedLoad(vec, brow, Align(4));
    Val b1 = b.CreateAlignedLoad(vec, at(brow, k.i64(kLanes)), Align(4));
    for (int64_t r = 0; r < kMr; ++r) {
      Val av;
      if (aPanel) {
        av = b.CreateLoad(k.f32(),
                          at(aPanel, b.CreateAdd(b.CreateMul(p, k.i64(kMr)),
                                                 k.i64(r))));
      } else {
        Val row = min(b.CreateAdd(i, k.i64(r)), lastRow);
        av = s.a(row, b.CreateAdd(p0, p));
      }
      Val splat = b.CreateVectorSplat(kLanes, av);
      for (int v = 0; v < 2; ++v)
        b.CreateStore(fmaVec(splat, v ? b1 : b0,
                             b.CreateLoad(vec, acc[r][v])),
                      acc[r][v]);
    }
  });
  branch(full,
         [&] {
           for (int64_t r = 0; r < kMr; ++r)
             for (int v = 0; v < 2; ++v)
               b.CreateAlignedStore(b.CreateLoad(vec, acc[r][v]),
                                    at(rowPtr(r), k.i64(v * kLanes)),
                                    Align(4));
         },
         [&] {
           for (int64_t r = 0; r < kMr; ++r)
             for (int v = 0; v < 2; ++v)
               b.CreateAlignedStore(b.CreateLoad(vec, acc[r][v]),
                                    at(tile, k.i64(r * kNr + v * kLanes)),
                                    Align(4));
           edgeCopy(false);
         });
  if (!s.epilogue)
    return;
  branch(last,
         [&] {
           k.loop(rows, "er", [&](Val r) {
             Val ii = b.CreateAdd(i, r);
             k.loop(cols, "ec", [&](Val c) {
               Val jj = b.CreateAdd(j, c);
               Val o = at(k.out, b.CreateAdd(b.CreateMul(ii, s.n), jj));
               b.CreateStore((*s.epilogue)(ii, jj, b.CreateLoad(k.f32(), o)),
                             o);
             });
           });
         },
         nullptr);
}

void GemmEmitter::emit() {
  bPack = k.slot(ArrayType::get(k.f32(), kKc * kNc), "bpack");
  if (s.packA)
    aPack = k.slot(ArrayType::get(k.f32(), kMc * kKc), "apack");
  tile = k.slot(ArrayType::get(k.f32(), kMr * kNr), "tile");
  for (auto &row : acc)
    for (Val &a : row)
      a = k.slot(vec, "acc");
  auto [colBegin, colEnd] = gemmColumns(k, s.n);
  Val width = b.CreateSub(colEnd, colBegin);
  // An empty product (k = 0) still runs one depth block, of depth 0, so
  // that the result is zero and the epilogue runs.
  Val depthBlocks =
      b.CreateSelect(b.CreateICmpSGT(s.k, k.i64(0)), ceilDiv(s.k, kKc),
                     k.i64(1));
  branch(b.CreateICmpSGT(width, k.i64(0)), [&] {
    k.loop(ceilDiv(width, kNc), "jc", [&](Val jc) {
      Val j0 = b.CreateAdd(colBegin, b.CreateMul(jc, k.i64(kNc)));
      Val ncb = min(k.i64(kNc), b.CreateSub(colEnd, j0));
      k.loop(depthBlocks, "pc", [&](Val pc) {
        Val p0 = b.CreateMul(pc, k.i64(kKc));
        Val kcb = min(k.i64(kKc), b.CreateSub(s.k, p0));
        Val first = b.CreateICmpEQ(pc, k.i64(0));
        Val last = b.CreateICmpEQ(pc, b.CreateSub(depthBlocks, k.i64(1)));
        packB(j0, ncb, p0, kcb);
        k.loop(ceilDiv(s.m, kMc), "ic", [&](Val ic) {
          Val i0 = b.CreateMul(ic, k.i64(kMc));
          Val mcb = min(k.i64(kMc), b.CreateSub(s.m, i0));
          if (s.packA)
            packA(i0, mcb, p0, kcb);
          k.loop(ceilDiv(ncb, kNr), "jr", [&](Val jr) {
            Val j = b.CreateAdd(j0, b.CreateMul(jr, k.i64(kNr)));
            Val cols = min(k.i64(kNr), b.CreateSub(colEnd, j));
            Val bPanel =
                at(bPack, b.CreateMul(b.CreateMul(jr, kcb), k.i64(kNr)));
            k.loop(ceilDiv(mcb, kMr), "ir", [&](Val ir) {
              Val i = b.CreateAdd(i0, b.CreateMul(ir, k.i64(kMr)));
              Val rows = min(k.i64(kMr), b.CreateSub(s.m, i));
              Val aPanel =
                  aPack ? at(aPack, b.CreateMul(b.CreateMul(ir, kcb),
                                                k.i64(kMr)))
                        : nullptr;
              microKernel(i, j, rows, cols, bPanel, aPanel, p0, kcb, first,
                          last);
            });
          });
        });
      });
    });
  }, nullptr);
}

} // namespace

std::pair<Val, Val> gemmColumns(KernelEmitter &k, Val n) {
  IRBuilder<> &b = k.b;
  Val panels = b.CreateSDiv(b.CreateAdd(n, k.i64(kNr - 1)), k.i64(kNr));
  Val first = b.CreateSDiv(b.CreateMul(k.part, panels), k.parts);
  Val last = b.CreateSDiv(b.CreateMul(b.CreateAdd(k.part, k.i64(1)), panels),
                          k.parts);
  Val end = b.CreateMul(last, k.i64(kNr));
  return {b.CreateMul(first, k.i64(kNr)),
          b.CreateSelect(b.CreateICmpSLT(end, n), end, n)};
}

void emitGemm(KernelEmitter &k, const GemmSpec &spec) {
  GemmEmitter(k, spec).emit();
}

} // namespace nn::cpu
