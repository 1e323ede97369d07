//===- EmitPool.cpp - Max and average pooling and their gradients ---------===//
///
/// \file
/// The pooling kernels of ir/Ops.def on NCHW images. Algorithm: the planes
/// (n, c) are independent and split between the tasks (splitLoop); in a
/// plane, each row of outputs is computed 16 outputs at a time (8 in rows
/// of at most 8) as vectors, one lane per output: the window's elements
/// outermost, row-major, each one masked load (stride 1) or masked gather
/// per vector, so every output still visits its window in row-major order.
/// maxpool2d keeps the first maximum of the elements inside the image (padding
/// never wins; a NaN wins, as in PyTorch); avgpool2d sums in double and divides
/// by kh * kw (padding counted). The gradients zero their plane of dx, then add
/// each dy element to its window (to the first maximum's position, or dy / (kh
/// * kw) to each element inside the image), outputs in row-major order: every
/// dx element sums its terms in one fixed order, the same bits for any thread
/// count. Where the windows are disjoint (stride >= the dilated kernel, as in
/// 2 x 2 stride 2) each dx element has at most one term, so the lanes
/// add theirs at once (a gather and a scatter); else lane by lane in
/// output order (max) or output by output (average).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EmitSpatial.h"

#include "ir/Support.h"

#include <limits>

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// Calls body(inside, index in the input plane) for each element of the
/// window of output (i, j), row-major.
void window(KernelEmitter &k, const ImageGeom &G, Val i, Val j,
            const std::function<void(Val, Val)> &body) {
  IRBuilder<> &b = k.b;
  k.loop(k.i64(G.kh), "p", [&](Val p) {
    Val ih = b.CreateAdd(b.CreateSub(b.CreateMul(i, k.i64(G.sh)), k.i64(G.ph)),
                         b.CreateMul(p, k.i64(G.dh)));
    k.loop(k.i64(G.kw), "q", [&](Val q) {
      Val iw =
          b.CreateAdd(b.CreateSub(b.CreateMul(j, k.i64(G.sw)), k.i64(G.pw)),
                      b.CreateMul(q, k.i64(G.dw)));
      Val inside = b.CreateAnd(b.CreateICmpULT(ih, k.i64(G.h)),
                               b.CreateICmpULT(iw, k.i64(G.w)));
      Val idx = b.CreateAdd(b.CreateMul(ih, k.i64(G.w)), iw);
      body(inside, b.CreateSelect(inside, idx, k.i64(0)));
    });
  });
}

/// The planes of input dims `x` and output dims `y`: body(plane, input
/// plane offset, output plane offset) for this task's share of them.
void planes(KernelEmitter &k, const ImageGeom &G, Val n,
            const std::function<void(Val, Val, Val)> &body) {
  IRBuilder<> &b = k.b;
  k.splitLoop(b.CreateMul(n, k.i64(G.c)), "plane", [&](Val pl) {
    body(pl, b.CreateMul(pl, k.i64(G.h * G.w)),
         b.CreateMul(pl, k.i64(G.ho * G.wo)));
  });
}

/// for each output (i, j) of a plane, row-major: body(i, j, i * Wo + j).
void outputs(KernelEmitter &k, const ImageGeom &G,
             const std::function<void(Val, Val, Val)> &body) {
  IRBuilder<> &b = k.b;
  k.loop(k.i64(G.ho), "i", [&](Val i) {
    k.loop(k.i64(G.wo), "j", [&](Val j) {
      body(i, j, b.CreateAdd(b.CreateMul(i, k.i64(G.wo)), j));
    });
  });
}

/// Outputs per vector: 16, or 8 for rows of at most 8 (7 x 7 maps).
unsigned poolLanes(const ImageGeom &G) { return G.wo <= 8 ? 8 : 16; }

/// Whether no two windows share an element: each dx element then has at
/// most one term.
bool disjointWindows(const ImageGeom &G) {
  return G.sh >= (G.kh - 1) * G.dh + 1 && G.sw >= (G.kw - 1) * G.dw + 1;
}

/// For the outputs j .. j + lanes - 1 of output row i (lanes past Wo off), each
/// element (p, q) of their windows, row-major: body(mask, idx, v) with the
/// lanes inside the image, their <16 x i32> indices in the plane `plane`
/// (a pointer) and the <16 x float> values there (0 where off).
void rowWindows(KernelEmitter &k, const ImageGeom &G, Val plane, Val i, Val j,
                const std::function<void(Val, Val, Val)> &body) {
  const unsigned lanes = poolLanes(G);
  IRBuilder<> &b = k.b;
  Lanes v{k, lanes};
  Val jv = v.iota(j);
  Val inRow = b.CreateICmpULT(jv, v.c(G.wo));
  k.loop(k.i64(G.kh), "p", [&](Val p) {
    Val ih = b.CreateAdd(b.CreateSub(b.CreateMul(i, k.i64(G.sh)), k.i64(G.ph)),
                         b.CreateMul(p, k.i64(G.dh)));
    Val rowOk = b.CreateVectorSplat(lanes, b.CreateICmpULT(ih, k.i64(G.h)));
    k.loop(k.i64(G.kw), "q", [&](Val q) {
      Val off = b.CreateSub(b.CreateMul(q, k.i64(G.dw)), k.i64(G.pw));
      Val iw = b.CreateAdd(b.CreateMul(jv, v.c(G.sw)), v.splat(off));
      Val mask =
          b.CreateAnd(b.CreateAnd(inRow, b.CreateICmpULT(iw, v.c(G.w))), rowOk);
      Val idx = b.CreateAdd(b.CreateMul(v.splat(ih), v.c(G.w)), iw);
      Val x = G.sw == 1 ? v.load(plane,
                                 b.CreateAdd(b.CreateMul(ih, k.i64(G.w)),
                                             b.CreateAdd(j, off)),
                                 mask)
                        : v.gather(plane, idx, mask);
      body(mask, idx, x);
    });
  });
}

/// Row i's window maxima for outputs j .. j + lanes - 1 of the plane `plane`:
/// the first maximum of each window (or its last NaN) and its index in the
/// plane (-inf and -1 where no element is inside, which the shape rule
/// rules out, and past Wo).
std::pair<Val, Val> rowMax(KernelEmitter &k, const ImageGeom &G, Val plane,
                           Val i, Val j) {
  const unsigned lanes = poolLanes(G);
  IRBuilder<> &b = k.b;
  Lanes v{k, lanes};
  auto *fv = FixedVectorType::get(k.f32(), lanes);
  Val best = k.slot(fv, "best"), where = k.slot(v.ty(), "where");
  b.CreateStore(b.CreateVectorSplat(
                    lanes, k.f32(-std::numeric_limits<double>::infinity())),
                best);
  b.CreateStore(v.c(-1), where);
  rowWindows(k, G, plane, i, j, [&](Val mask, Val idx, Val x) {
    Val cur = b.CreateLoad(fv, best), at = b.CreateLoad(v.ty(), where);
    // A NaN wins (the last one), as in PyTorch.
    Val take =
        b.CreateAnd(mask, b.CreateOr(b.CreateOr(b.CreateICmpSLT(at, v.c(0)),
                                                b.CreateFCmpOGT(x, cur)),
                                     b.CreateFCmpUNO(x, x)));
    b.CreateStore(b.CreateSelect(take, x, cur), best);
    b.CreateStore(b.CreateSelect(take, idx, at), where);
  });
  return {b.CreateLoad(fv, best), b.CreateLoad(v.ty(), where)};
}

/// for each chunk of poolLanes outputs of each row of a plane: body(i, j).
void rowChunks(KernelEmitter &k, const ImageGeom &G,
               const std::function<void(Val, Val)> &body) {
  const unsigned lanes = poolLanes(G);
  k.loop(k.i64(G.ho), "i", [&](Val i) {
    k.loop(k.i64((G.wo + lanes - 1) / lanes), "jc",
           [&](Val jc) { body(i, k.b.CreateMul(jc, k.i64(lanes))); });
  });
}

/// The lanes of outputs j .. j + lanes - 1 that lie in the row (j + lane < Wo).
Val rowMask(KernelEmitter &k, const ImageGeom &G, Val j) {
  const unsigned lanes = poolLanes(G);
  Lanes v{k, lanes};
  return k.b.CreateICmpULT(v.iota(j), v.c(G.wo));
}

/// plane[idx] += add for the lanes of `mask` (their idx all distinct).
void scatterAdd(KernelEmitter &k, Val plane, Val idx, Val add, Val mask) {
  IRBuilder<> &b = k.b;
  const unsigned lanes =
      cast<FixedVectorType>(mask->getType())->getNumElements();
  Lanes v{k, lanes};
  Val ptrs =
      b.CreateInBoundsGEP(k.f32(), plane, b.CreateSelect(mask, idx, v.c(0)));
  auto *fv = FixedVectorType::get(k.f32(), lanes);
  Val old = b.CreateMaskedGather(fv, ptrs, Align(4), mask,
                                 ConstantAggregateZero::get(fv));
  b.CreateMaskedScatter(b.CreateFAdd(old, add), ptrs, Align(4), mask);
}

Val ptrAt(KernelEmitter &k, size_t op, Val idx) {
  return k.b.CreateInBoundsGEP(k.f32(), k.in[op].ptr, idx);
}

/// Zeroes the plane [base, base + count) of the result.
void zeroPlane(KernelEmitter &k, Val base, int64_t count) {
  k.loop(k.i64(count), "z",
         [&](Val e) { k.store(k.b.CreateAdd(base, e), k.f32(0)); });
}

/// out[idx] += v.
void addTo(KernelEmitter &k, Val idx, Val v) {
  Val p = k.b.CreateInBoundsGEP(k.f32(), k.out, idx);
  k.b.CreateStore(k.b.CreateFAdd(k.b.CreateLoad(k.f32(), p), v), p);
}

} // namespace

void emitMaxPool2d(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    Val plane = ptrAt(k, 0, xBase);
    rowChunks(k, G, [&](Val i, Val j) {
      Val best = rowMax(k, G, plane, i, j).first;
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      b.CreateMaskedStore(
          best, b.CreateInBoundsGEP(k.f32(), k.out, b.CreateAdd(row, j)),
          Align(4), rowMask(k, G, j));
    });
  });
}

void emitMaxPool2dGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands dy, x; the result x's shape.
  const std::vector<int64_t> &xd = k.inType(1).dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  const unsigned lanes = poolLanes(G);
  Lanes v{k, lanes};
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    zeroPlane(k, xBase, G.h * G.w);
    Val plane = ptrAt(k, 1, xBase);
    Val dx = b.CreateInBoundsGEP(k.f32(), k.out, xBase);
    rowChunks(k, G, [&](Val i, Val j) {
      Val where = rowMax(k, G, plane, i, j).second;
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      Val mask = b.CreateAnd(rowMask(k, G, j), b.CreateICmpSGE(where, v.c(0)));
      Val dy = v.load(k.in[0].ptr, b.CreateAdd(row, j), mask);
      if (disjointWindows(G))
        return scatterAdd(k, dx, where, dy, mask);
      // The outputs in row-major order, as before: the same sums.
      for (unsigned l = 0; l < lanes; ++l)
        k.ifElse(
            b.CreateExtractElement(mask, l),
            [&] {
              Val at = b.CreateSExt(b.CreateExtractElement(where, l),
                                    b.getInt64Ty());
              addTo(k, b.CreateAdd(xBase, at), b.CreateExtractElement(dy, l));
            },
            nullptr);
    });
  });
}

void emitAvgPool2d(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  const unsigned lanes = poolLanes(G);
  auto *dv = FixedVectorType::get(k.f64(), lanes);
  Val count = b.CreateVectorSplat(
      lanes, ConstantFP::get(k.f64(), static_cast<double>(G.kh * G.kw)));
  Val sums = k.slot(dv, "sums");
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    Val plane = ptrAt(k, 0, xBase);
    rowChunks(k, G, [&](Val i, Val j) {
      b.CreateStore(ConstantAggregateZero::get(dv), sums);
      // Each output sums its window in row-major order, in double.
      rowWindows(k, G, plane, i, j, [&](Val, Val, Val x) {
        b.CreateStore(
            b.CreateFAdd(b.CreateLoad(dv, sums), b.CreateFPExt(x, dv)), sums);
      });
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      Val avg = b.CreateFPTrunc(b.CreateFDiv(b.CreateLoad(dv, sums), count),
                                FixedVectorType::get(k.f32(), lanes));
      b.CreateMaskedStore(
          avg, b.CreateInBoundsGEP(k.f32(), k.out, b.CreateAdd(row, j)),
          Align(4), rowMask(k, G, j));
    });
  });
}

void emitAvgPool2dGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operand dy; the result Node::shape.
  const std::vector<int64_t> &xd = k.node.type.dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  const unsigned lanes = poolLanes(G);
  Val count = k.f32(static_cast<double>(G.kh * G.kw));
  Lanes v{k, lanes};
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    zeroPlane(k, xBase, G.h * G.w);
    if (disjointWindows(G)) {
      Val dx = b.CreateInBoundsGEP(k.f32(), k.out, xBase);
      return rowChunks(k, G, [&](Val i, Val j) {
        Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
        Val g = b.CreateFDiv(
            v.load(k.in[0].ptr, b.CreateAdd(row, j), rowMask(k, G, j)),
            b.CreateVectorSplat(lanes, count));
        // Each element of dx in one window at most: its one term.
        rowWindows(k, G, dx, i, j, [&](Val mask, Val idx, Val) {
          scatterAdd(k, dx, idx, g, mask);
        });
      });
    }
    outputs(k, G, [&](Val i, Val j, Val o) {
      Val g = b.CreateFDiv(k.load(0, b.CreateAdd(yBase, o)), count);
      window(k, G, i, j, [&](Val inside, Val idx) {
        k.ifElse(inside, [&] { addTo(k, b.CreateAdd(xBase, idx), g); },
                 nullptr);
      });
    });
  });
}

} // namespace nn::cpu
