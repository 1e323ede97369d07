//===- EmitGemm.cpp - Register-blocked matrix products --------------------===//
///
/// \file
/// out[i][j] = epilogue(i, j, sum_p a(i, p) * b(p, j)) as the Goto/BLIS loop
/// nest, every level emitted as LLVM IR:
///
///   for jc: column blocks of nc (this task's share of the column panels)
///     for pc: depth blocks of kc; b's block packed into panels of nr
///             columns (transposes read in place and folded activation
///             gradients applied while packing: the prologue; a whole
///             panel's row at once where the spec has bRow)
///       for ic: row blocks of mc (this task's rows; a packed too when it
///               is computed, a tile's column at once where the spec has
///               aCol)
///         for jr, ir: an mr x nr micro-kernel, mr x (nr / lanes) vector
///                     accumulators held in registers, one broadcast of a
///                     and nr / lanes loads of b per FMA row
///   then the epilogue (bias, activation) on each finished tile.
///
/// The tile and the block sizes are the module's GemmTarget (GemmTarget.h):
/// 6 x 16 with <8 x float> (AVX2, ymm) or 8 x 32 with <16 x float>
/// (AVX-512, zmm), blocks from the host's caches.
///
/// Each element sums its terms in the order p = 0, 1, ..., k-1, one fused
/// multiply-add per term: a depth block's accumulators start from the sum of
/// the blocks before it. So the result does not depend on the block sizes,
/// nor on the tile (the AVX2 and AVX-512 kernels give the same bits), nor on
/// how the tiles are split between threads (column panels, and rows where
/// the panels are fewer than the tasks): the same bits for any thread
/// count. Pack buffers live on the kernel's stack (kc x nc and mc x kc
/// floats).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"
#include "codegen/cpu/GemmTarget.h"

#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// The vector width of the epilogue (GemmSpec::vecEpilogue).
constexpr int64_t kEpilogueLanes = 8;

/// The module's target, its tile narrowed for a product of n columns where
/// n is a constant (GemmTarget::forColumns).
GemmTarget targetOf(IRBuilder<> &b, Val n) {
  GemmTarget t = moduleGemmTarget(*b.GetInsertBlock()->getModule());
  auto *c = dyn_cast<ConstantInt>(n);
  return t.forColumns(c ? c->getSExtValue() : -1);
}

/// The body of the micro-kernel function (GemmEmitter::microKernelFn),
/// one step per method, in the order its instructions are emitted.
class MicroKernel {
public:
  MicroKernel(KernelEmitter &mk, const GemmTarget &t)
      : mk(mk), b(mk.b), kMr(t.mr), kNr(t.nr), kLanes(t.lanes),
        kVecs(t.nr / t.lanes),
        vec(FixedVectorType::get(mk.f32(), static_cast<unsigned>(t.lanes))),
        f(b.GetInsertBlock()->getParent()) {
    a = f->getArg(0), ars = f->getArg(1), acs = f->getArg(2);
    bp = f->getArg(3), depth = f->getArg(4), c = f->getArg(5);
    ldc = f->getArg(6), rows = f->getArg(7), cols = f->getArg(8);
    first = b.CreateICmpNE(f->getArg(9), mk.i64(0));
    tile = mk.slot(ArrayType::get(mk.f32(), static_cast<uint64_t>(kMr * kNr)),
                   "tile");
    acc.assign(static_cast<size_t>(kMr), std::vector<Val>(kVecs));
    for (auto &row : acc)
      for (Val &x : row)
        x = mk.slot(vec, "acc");
    full = b.CreateAnd(b.CreateICmpEQ(rows, mk.i64(kMr)),
                       b.CreateICmpEQ(cols, mk.i64(kNr)));
    zero = ConstantAggregateZero::get(vec);
  }

  void emit() {
    loadAccumulators();
    multiply();
    storeAccumulators();
  }

private:
  KernelEmitter &mk;
  IRBuilder<> &b;
  const int64_t kMr, kNr, kLanes;
  const size_t kVecs; ///< vectors per row of the tile
  Type *vec;
  Function *f;
  Val a, ars, acs, bp, depth, c, ldc, rows, cols, first, tile, full, zero;
  std::vector<std::vector<Val>> acc; ///< [kMr][kVecs]

  Val at(Val base, Val idx) { return b.CreateInBoundsGEP(mk.f32(), base, idx); }
  Val cRow(int64_t r, size_t v) {
    return at(c, b.CreateAdd(b.CreateMul(mk.i64(r), ldc),
                             mk.i64(static_cast<int64_t>(v) * kLanes)));
  }
  Val tileAt(int64_t r, size_t v) {
    return at(tile, mk.i64(r * kNr + static_cast<int64_t>(v) * kLanes));
  }
  /// A partial tile goes through `tile` (kMr x kNr floats).
  void edgeCopy(bool toTile) {
    mk.loop(rows, "er", [&](Val r) {
      mk.loop(cols, "ec", [&](Val q) {
        Val o = at(c, b.CreateAdd(b.CreateMul(r, ldc), q));
        Val t = at(tile, b.CreateAdd(b.CreateMul(r, mk.i64(kNr)), q));
        b.CreateStore(b.CreateLoad(mk.f32(), toTile ? o : t), toTile ? t : o);
      });
    });
  }
  /// acc[r][v] = tile row r of the result (vector v), through `tile`.
  void loadFrom(bool fromC) {
    for (int64_t r = 0; r < kMr; ++r)
      for (size_t v = 0; v < kVecs; ++v)
        b.CreateStore(b.CreateAlignedLoad(vec, fromC ? cRow(r, v)
                                                     : tileAt(r, v),
                                          Align(4)),
                      acc[r][v]);
  }
  /// From zero when `first`, else from c (a partial tile through `tile`).
  void loadAccumulators() {
    mk.ifElse(
        first,
        [&] {
          for (auto &row : acc)
            for (Val x : row)
              b.CreateStore(zero, x);
        },
        [&] {
          mk.ifElse(
              full, [&] { loadFrom(true); },
              [&] {
                for (int64_t r = 0; r < kMr; ++r)
                  for (size_t v = 0; v < kVecs; ++v)
                    b.CreateAlignedStore(zero, tileAt(r, v), Align(4));
                edgeCopy(true);
                loadFrom(false);
              });
        });
  }
  /// acc += a[:, p] (x) b[p, :] for each p < depth.
  void multiply() {
    // Row r of a, clamped to the last row inside the result.
    Val lastRow = b.CreateSub(rows, mk.i64(1));
    std::vector<Val> aRow(static_cast<size_t>(kMr));
    for (int64_t r = 0; r < kMr; ++r) {
      Val rr = b.CreateSelect(b.CreateICmpSLT(mk.i64(r), lastRow), mk.i64(r),
                              lastRow);
      aRow[r] = at(a, b.CreateMul(rr, ars));
    }
    mk.loop(depth, "p", [&](Val p) {
      Val brow = at(bp, b.CreateMul(p, mk.i64(kNr)));
      std::vector<Val> bv(kVecs);
      for (size_t v = 0; v < kVecs; ++v)
        bv[v] = b.CreateAlignedLoad(
            vec, at(brow, mk.i64(static_cast<int64_t>(v) * kLanes)), Align(4));
      Val off = b.CreateMul(p, acs);
      for (int64_t r = 0; r < kMr; ++r) {
        Val splat = b.CreateVectorSplat(
            static_cast<unsigned>(kLanes),
            b.CreateLoad(mk.f32(), at(aRow[r], off)));
        for (size_t v = 0; v < kVecs; ++v)
          b.CreateStore(
              b.CreateIntrinsic(Intrinsic::fmuladd, {vec},
                                {splat, bv[v], b.CreateLoad(vec, acc[r][v])}),
              acc[r][v]);
      }
    });
  }
  /// c = acc (a partial tile through `tile`).
  void storeAccumulators() {
    auto storeTo = [&](bool toC) {
      for (int64_t r = 0; r < kMr; ++r)
        for (size_t v = 0; v < kVecs; ++v)
          b.CreateAlignedStore(b.CreateLoad(vec, acc[r][v]),
                               toC ? cRow(r, v) : tileAt(r, v), Align(4));
    };
    mk.ifElse(
        full, [&] { storeTo(true); },
        [&] {
          storeTo(false);
          edgeCopy(false);
        });
  }
};

/// Emits the loops of one product; the state every level shares.
class GemmEmitter {
public:
  GemmEmitter(KernelEmitter &k, const GemmSpec &s)
      : k(k), b(k.b), s(s), t(targetOf(k.b, s.n)), kMr(t.mr), kNr(t.nr),
        kKc(t.kc), kMc(t.mc), kNc(t.nc),
        evec(FixedVectorType::get(k.f32(), kEpilogueLanes)) {}

  void emit();

private:
  /// The rows [r0, r1) and columns [c0, c1) this task computes.
  struct Share {
    Val r0, r1, c0, c1;
  };

  Val min(Val x, Val y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Val ceilDiv(Val x, int64_t d) {
    return b.CreateSDiv(b.CreateAdd(x, k.i64(d - 1)), k.i64(d));
  }
  Val at(Val base, Val idx) { return b.CreateInBoundsGEP(k.f32(), base, idx); }

  Share share();
  void packB(Val j0, Val ncb, Val p0, Val kcb);
  void packA(Val i0, Val mcb, Val p0, Val kcb);
  /// The module's micro-kernel function (emitted on first use), named after
  /// its tile:
  ///   void nnc_gemm_<mr>x<nr>(ptr a, i64 aRowStride, i64 aColStride, ptr b,
  ///                           i64 depth, ptr c, i64 ldc, i64 rows, i64 cols,
  ///                           i64 first)
  /// c[r * ldc + q] (+)= sum_p a[r * aRowStride + p * aColStride] *
  /// b[p * nr + q] for r < rows, q < cols: from zero when `first`, else
  /// from c. Rows past `rows` read row rows - 1 of a (dropped).
  Function *microKernelFn();
  /// The row blocks of one packed block of b (columns [j0, j0 + ncb),
  /// depths [p0, p0 + kcb)).
  void rowBlocks(const Share &sh, Val j0, Val ncb, Val p0, Val kcb,
                 Val first, Val last);
  /// One micro-kernel call (and the epilogue after the last depth block).
  void tile(Val i, Val j, Val rows, Val cols, Val ir, Val kcb, Val p0,
            Val bPanel, Val first, Val last);
  /// out = epilogue(out) on the rows x cols tile at (i, j).
  void epilogue(Val i, Val j, Val rows, Val cols);

  KernelEmitter &k;
  IRBuilder<> &b;
  const GemmSpec &s;
  const GemmTarget t;
  const int64_t kMr, kNr, kKc, kMc, kNc;
  Type *evec; ///< the epilogue's vector type
  Val bPack = nullptr, aPack = nullptr, packing = nullptr;
  Function *micro = nullptr;
};

/// Column panels of nr split between the tasks; where there are fewer
/// panels than tasks, each panel's rows are split too (in whole tiles), so
/// that a small product still gives every thread work. Not with onB: that
/// must see each column once (gemmColumns, the caller's bias sums).
GemmEmitter::Share GemmEmitter::share() {
  if (s.onB) {
    auto [c0, c1] = gemmColumns(k, s.n);
    return {k.i64(0), s.m, c0, c1};
  }
  Val panels = ceilDiv(s.n, kNr), tiles = ceilDiv(s.m, kMr);
  Val parts = k.parts, one = k.i64(1);
  Val byRows = b.CreateICmpSGT(parts, panels);
  Val rowGroups = b.CreateSelect(
      byRows, b.CreateSDiv(parts, b.CreateSelect(b.CreateICmpSGT(panels, one),
                                                 panels, one)),
      one);
  Val colGroups = b.CreateSelect(
      byRows, b.CreateSelect(b.CreateICmpSGT(panels, one), panels, one),
      parts);
  Val cg = b.CreateSRem(k.part, colGroups), rg = b.CreateSDiv(k.part, colGroups);
  auto bound = [&](Val g, Val count, Val groups, int64_t unit, Val limit) {
    return min(b.CreateMul(b.CreateSDiv(b.CreateMul(g, count), groups),
                           k.i64(unit)),
               limit);
  };
  return {bound(rg, tiles, rowGroups, kMr, s.m),
          bound(b.CreateAdd(rg, one), tiles, rowGroups, kMr, s.m),
          bound(cg, panels, colGroups, kNr, s.n),
          bound(b.CreateAdd(cg, one), panels, colGroups, kNr, s.n)};
}

/// bPack[(jp * kcb + p) * nr + jj] = b(p0 + p, j0 + jp * nr + jj), zero
/// past column n. Full panels copy without a bounds check (contiguous rows
/// vectorize); onB sees each element once, p ascending for every column.
void GemmEmitter::packB(Val j0, Val ncb, Val p0, Val kcb) {
  k.loop(ceilDiv(ncb, kNr), "jp", [&](Val jp) {
    Val jbase = b.CreateAdd(j0, b.CreateMul(jp, k.i64(kNr)));
    Val panel = b.CreateMul(b.CreateMul(jp, kcb), k.i64(kNr));
    auto fill = [&](bool guarded) {
      k.loop(kcb, "pp", [&](Val p) {
        Val row = b.CreateAdd(panel, b.CreateMul(p, k.i64(kNr)));
        if (s.bRow && !s.onB)
          return s.bRow(b.CreateAdd(p0, p), jbase, at(bPack, row), kNr);
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
          k.ifElse(b.CreateICmpSLT(j, s.n), copy,
                 [&] { b.CreateStore(k.f32(0), dst); });
        });
      });
    };
    k.ifElse(b.CreateICmpSLE(b.CreateAdd(jbase, k.i64(kNr)), s.n),
           [&] { fill(false); }, [&] { fill(true); });
  });
}

/// aPack[(ip * kcb + p) * mr + r] = a(i0 + ip * mr + r, p0 + p), zero past
/// row m.
void GemmEmitter::packA(Val i0, Val mcb, Val p0, Val kcb) {
  k.loop(ceilDiv(mcb, kMr), "ip", [&](Val ip) {
    Val ibase = b.CreateAdd(i0, b.CreateMul(ip, k.i64(kMr)));
    Val panel = b.CreateMul(b.CreateMul(ip, kcb), k.i64(kMr));
    k.loop(kcb, "pp", [&](Val p) {
      if (s.aCol) {
        Val dst = at(aPack, b.CreateAdd(panel, b.CreateMul(p, k.i64(kMr))));
        return s.aCol(ibase, b.CreateAdd(p0, p), dst, kMr);
      }
      for (int64_t r = 0; r < kMr; ++r) {
        Val i = b.CreateAdd(ibase, k.i64(r));
        Val dst = at(aPack, b.CreateAdd(b.CreateAdd(panel, b.CreateMul(
                                                       p, k.i64(kMr))),
                                        k.i64(r)));
        k.ifElse(b.CreateICmpSLT(i, s.m),
               [&] { b.CreateStore(s.a(i, b.CreateAdd(p0, p)), dst); },
               [&] { b.CreateStore(k.f32(0), dst); });
      }
    });
  });
}

Function *GemmEmitter::microKernelFn() {
  Module &m = *b.GetInsertBlock()->getModule();
  std::string name = t.kernelName();
  if (Function *f = m.getFunction(name))
    return f;
  Type *ptr = PointerType::get(b.getContext(), 0), *i64 = b.getInt64Ty();
  auto *ty = FunctionType::get(
      b.getVoidTy(), {ptr, i64, i64, ptr, i64, ptr, i64, i64, i64, i64},
      false);
  Function *f = Function::Create(ty, GlobalValue::InternalLinkage, name, m);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  // Wide vectors in zmm registers, even where the CPU's tuning prefers
  // 256-bit ones (x86-64-v4, Skylake-X) and would split them.
  if (t.lanes * 32 > 256) {
    std::string bits = std::to_string(t.lanes * 32);
    f->addFnAttr("min-legal-vector-width", bits);
    f->addFnAttr("prefer-vector-width", bits);
  }
  const char *names[] = {"a",   "ars",  "acs",  "b",    "depth",
                         "c",   "ldc",  "rows", "cols", "first"};
  for (unsigned i = 0; i < f->arg_size(); ++i)
    f->getArg(i)->setName(names[i]);
  for (unsigned i : {0u, 3u, 5u})
    f->addParamAttr(i, Attribute::NoAlias);
  f->addParamAttr(0, Attribute::ReadOnly);
  f->addParamAttr(3, Attribute::ReadOnly);
  // An emitter on the new function (its graph and node are the caller's,
  // for context only: the body reads no operand).
  NodeId id = static_cast<NodeId>(&k.node - k.g.nodes.data());
  KernelEmitter mk(m, f, k.g, id, {}, f->getArg(5),
                   BasicBlock::Create(b.getContext(), "entry", f));
  MicroKernel(mk, t).emit();
  mk.b.CreateRetVoid();
  return f;
}

void GemmEmitter::epilogue(Val i, Val j, Val rows, Val cols) {
  auto apply = [&](Val width) {
    k.loop(rows, "er", [&](Val r) {
      Val ii = b.CreateAdd(i, r);
      k.loop(width, "ec", [&](Val c) {
        Val jj = b.CreateAdd(j, c);
        Val o = at(k.out, b.CreateAdd(b.CreateMul(ii, s.n), jj));
        b.CreateStore((*s.epilogue)(ii, jj, b.CreateLoad(k.f32(), o)), o);
      });
    });
  };
  if (!s.vecEpilogue)
    return apply(cols);
  // A whole tile's rows: nr / 8 <8 x float> each.
  k.ifElse(b.CreateICmpEQ(cols, k.i64(kNr)),
         [&] {
           k.loop(rows, "er", [&](Val r) {
             Val ii = b.CreateAdd(i, r);
             for (int64_t v = 0; v < kNr / kEpilogueLanes; ++v) {
               Val jj = b.CreateAdd(j, k.i64(v * kEpilogueLanes));
               Val o = at(k.out, b.CreateAdd(b.CreateMul(ii, s.n), jj));
               Val x = b.CreateAlignedLoad(evec, o, Align(4));
               b.CreateAlignedStore(s.vecEpilogue(ii, jj, x), o, Align(4));
             }
           });
         },
         [&] { apply(cols); });
}

void GemmEmitter::tile(Val i, Val j, Val rows, Val cols, Val ir, Val kcb,
                       Val p0, Val bPanel, Val first, Val last) {
  // a's rows from i, depths from p0: packed (row stride 1, depth stride
  // mr) or read in place.
  Val aTile = at(aPack, b.CreateMul(b.CreateMul(ir, kcb), k.i64(kMr)));
  Val ars = k.i64(1), acs = k.i64(kMr);
  if (!s.packA && s.aBase) {
    Val direct = at(s.aBase, b.CreateAdd(b.CreateMul(i, s.aRowStride),
                                         b.CreateMul(p0, s.aColStride)));
    aTile = b.CreateSelect(packing, aTile, direct);
    ars = b.CreateSelect(packing, ars, s.aRowStride);
    acs = b.CreateSelect(packing, acs, s.aColStride);
  }
  Val c = at(k.out, b.CreateAdd(b.CreateMul(i, s.n), j));
  b.CreateCall(micro, {aTile, ars, acs, bPanel, kcb, c, s.n, rows, cols,
                       b.CreateZExt(first, b.getInt64Ty())});
  if (s.epilogue)
    k.ifElse(last, [&] { epilogue(i, j, rows, cols); }, nullptr);
}

void GemmEmitter::rowBlocks(const Share &sh, Val j0, Val ncb, Val p0, Val kcb,
                            Val first, Val last) {
  k.loop(ceilDiv(b.CreateSub(sh.r1, sh.r0), kMc), "ic", [&](Val ic) {
    Val i0 = b.CreateAdd(sh.r0, b.CreateMul(ic, k.i64(kMc)));
    Val mcb = min(k.i64(kMc), b.CreateSub(sh.r1, i0));
    k.ifElse(packing, [&] { packA(i0, mcb, p0, kcb); }, nullptr);
    k.loop(ceilDiv(ncb, kNr), "jr", [&](Val jr) {
      Val j = b.CreateAdd(j0, b.CreateMul(jr, k.i64(kNr)));
      Val cols = min(k.i64(kNr), b.CreateSub(sh.c1, j));
      Val bPanel = at(bPack, b.CreateMul(b.CreateMul(jr, kcb), k.i64(kNr)));
      k.loop(ceilDiv(mcb, kMr), "ir", [&](Val ir) {
        Val i = b.CreateAdd(i0, b.CreateMul(ir, k.i64(kMr)));
        Val rows = min(k.i64(kMr), b.CreateSub(sh.r1, i));
        tile(i, j, rows, cols, ir, kcb, p0, bPanel, first, last);
      });
    });
  });
}

void GemmEmitter::emit() {
  bPack = k.slot(ArrayType::get(k.f32(), static_cast<uint64_t>(kKc * kNc)),
                 "bpack");
  aPack = k.slot(ArrayType::get(k.f32(), static_cast<uint64_t>(kMc * kKc)),
                 "apack");
  // a is packed where it is computed, and where it is read transposed over
  // more than one depth block (rows kColStride apart: a cache line per
  // element); else read in place.
  packing = k.b.getTrue();
  if (!s.packA && s.aBase)
    packing = b.CreateAnd(b.CreateICmpNE(s.aColStride, k.i64(1)),
                          b.CreateICmpSGT(s.k, k.i64(kKc)));
  micro = microKernelFn();
  Share sh = share();
  Val width = b.CreateSub(sh.c1, sh.c0), height = b.CreateSub(sh.r1, sh.r0);
  // An empty product (k = 0) still runs one depth block, of depth 0, so
  // that the result is zero and the epilogue runs.
  Val depthBlocks =
      b.CreateSelect(b.CreateICmpSGT(s.k, k.i64(0)), ceilDiv(s.k, kKc),
                     k.i64(1));
  Val work = b.CreateAnd(b.CreateICmpSGT(width, k.i64(0)),
                         b.CreateICmpSGT(height, k.i64(0)));
  k.ifElse(work, [&] {
    k.loop(ceilDiv(width, kNc), "jc", [&](Val jc) {
      Val j0 = b.CreateAdd(sh.c0, b.CreateMul(jc, k.i64(kNc)));
      Val ncb = min(k.i64(kNc), b.CreateSub(sh.c1, j0));
      k.loop(depthBlocks, "pc", [&](Val pc) {
        Val p0 = b.CreateMul(pc, k.i64(kKc));
        Val kcb = min(k.i64(kKc), b.CreateSub(s.k, p0));
        Val first = b.CreateICmpEQ(pc, k.i64(0));
        if (s.accumulate)
          first = b.CreateAnd(first, b.CreateNot(s.accumulate));
        Val last = b.CreateICmpEQ(pc, b.CreateSub(depthBlocks, k.i64(1)));
        packB(j0, ncb, p0, kcb);
        rowBlocks(sh, j0, ncb, p0, kcb, first, last);
      });
    });
  }, nullptr);
}

} // namespace

std::pair<Val, Val> gemmColumns(KernelEmitter &k, Val n) {
  IRBuilder<> &b = k.b;
  const int64_t nr = targetOf(b, n).nr;
  Val panels = b.CreateSDiv(b.CreateAdd(n, k.i64(nr - 1)), k.i64(nr));
  Val first = b.CreateSDiv(b.CreateMul(k.part, panels), k.parts);
  Val last = b.CreateSDiv(b.CreateMul(b.CreateAdd(k.part, k.i64(1)), panels),
                          k.parts);
  Val end = b.CreateMul(last, k.i64(nr));
  return {b.CreateMul(first, k.i64(nr)),
          b.CreateSelect(b.CreateICmpSLT(end, n), end, n)};
}

Val gemmMaxParts(IRBuilder<> &b, Val rows, Val cols) {
  GemmTarget t = targetOf(b, cols);
  auto ceilDiv = [&](Val x, int64_t d) {
    return b.CreateUDiv(b.CreateAdd(x, b.getInt64(d - 1)), b.getInt64(d));
  };
  // Column panels, times groups of at least two row tiles.
  Val groups = ceilDiv(ceilDiv(rows, t.mr), 2);
  groups = b.CreateSelect(b.CreateICmpUGT(groups, b.getInt64(1)), groups,
                          b.getInt64(1));
  return b.CreateMul(ceilDiv(cols, t.nr), groups);
}

void emitGemm(KernelEmitter &k, const GemmSpec &spec) {
  GemmEmitter(k, spec).emit();
}

} // namespace nn::cpu
