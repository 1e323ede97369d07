//===- EmitPool.cpp - Max and average pooling and their gradients ---------===//
///
/// \file
/// The pooling kernels of ir/Ops.def on NCHW images. Algorithm: the planes
/// (n, c) are independent and split between the tasks (splitLoop); in a
/// plane, each output visits its window row-major (for a row of outputs,
/// the window's elements outermost and the outputs innermost: independent
/// outputs side by side, each still in row-major window order). maxpool2d
/// keeps the first maximum of the elements inside the image (padding never
/// wins; a NaN wins, as in PyTorch); avgpool2d sums in double and divides
/// by kh * kw (padding counted).
/// The gradients zero their plane of dx, then add each dy element to its
/// window (to the first maximum's position, or dy / (kh * kw) to each
/// element inside the image), outputs in row-major order: every dx element
/// sums its terms in one fixed order, the same bits for any thread count.
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

/// Calls body(j, inside, index in the input plane) for each output j of
/// output row i and each element of its window, the window's elements
/// outermost (row-major) and the outputs innermost: each output still sees
/// its window in row-major order, and the outputs of a row, independent,
/// run side by side (the inner loop vectorizes; no chain of compares).
/// Without padding every element is inside.
void rowWindows(KernelEmitter &k, const ImageGeom &G, Val i,
                const std::function<void(Val, Val, Val)> &body) {
  IRBuilder<> &b = k.b;
  bool padded = G.ph > 0 || G.pw > 0;
  k.loop(k.i64(G.kh), "p", [&](Val p) {
    Val ih = b.CreateAdd(b.CreateSub(b.CreateMul(i, k.i64(G.sh)), k.i64(G.ph)),
                         b.CreateMul(p, k.i64(G.dh)));
    Val rowInside = b.CreateICmpULT(ih, k.i64(G.h));
    k.loop(k.i64(G.kw), "q", [&](Val q) {
      k.loop(k.i64(G.wo), "j", [&](Val j) {
        Val iw =
            b.CreateAdd(b.CreateSub(b.CreateMul(j, k.i64(G.sw)), k.i64(G.pw)),
                        b.CreateMul(q, k.i64(G.dw)));
        Val idx = b.CreateAdd(b.CreateMul(ih, k.i64(G.w)), iw);
        if (!padded)
          return body(j, b.getTrue(), idx);
        Val inside = b.CreateAnd(rowInside, b.CreateICmpULT(iw, k.i64(G.w)));
        body(j, inside, b.CreateSelect(inside, idx, k.i64(0)));
      });
    });
  });
}

/// Row i's window maxima of the plane at `xBase` of operand `xOp`: for each
/// output j, the first maximum of its window (or its last NaN) into
/// best[j], its index in the plane into where[j] (-inf and -1 when no
/// element is inside, which the shape rule rules out). best and where are
/// stack arrays of Wo.
void rowMax(KernelEmitter &k, const ImageGeom &G, size_t xOp, Val xBase,
            Val i, Val best, Val where) {
  IRBuilder<> &b = k.b;
  Type *i64 = b.getInt64Ty();
  k.loop(k.i64(G.wo), "j", [&](Val j) {
    b.CreateStore(k.f32(-std::numeric_limits<double>::infinity()),
                  b.CreateInBoundsGEP(k.f32(), best, j));
    b.CreateStore(k.i64(-1), b.CreateInBoundsGEP(i64, where, j));
  });
  rowWindows(k, G, i, [&](Val j, Val inside, Val idx) {
    Val bp = b.CreateInBoundsGEP(k.f32(), best, j);
    Val wp = b.CreateInBoundsGEP(i64, where, j);
    Val v = k.load(xOp, b.CreateAdd(xBase, idx));
    Val cur = b.CreateLoad(k.f32(), bp), at = b.CreateLoad(i64, wp);
    // A NaN wins (the last one), as in PyTorch.
    Val take = b.CreateAnd(
        inside,
        b.CreateOr(b.CreateOr(b.CreateICmpSLT(at, k.i64(0)),
                              b.CreateFCmpOGT(v, cur)),
                   b.CreateFCmpUNO(v, v)));
    b.CreateStore(b.CreateSelect(take, v, cur), bp);
    b.CreateStore(b.CreateSelect(take, idx, at), wp);
  });
}

/// Stack arrays of Wo floats and Wo i64s.
std::pair<Val, Val> rowSlots(KernelEmitter &k, const ImageGeom &G) {
  auto n = static_cast<uint64_t>(G.wo);
  return {k.slot(ArrayType::get(k.f32(), n), "best"),
          k.slot(ArrayType::get(k.b.getInt64Ty(), n), "where")};
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
  auto [best, where] = rowSlots(k, G);
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    k.loop(k.i64(G.ho), "i", [&](Val i) {
      rowMax(k, G, 0, xBase, i, best, where);
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      k.loop(k.i64(G.wo), "j", [&](Val j) {
        k.store(b.CreateAdd(row, j),
                b.CreateLoad(k.f32(), b.CreateInBoundsGEP(k.f32(), best, j)));
      });
    });
  });
}

void emitMaxPool2dGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands dy, x; the result x's shape.
  const std::vector<int64_t> &xd = k.inType(1).dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  auto [best, where] = rowSlots(k, G);
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    zeroPlane(k, xBase, G.h * G.w);
    k.loop(k.i64(G.ho), "i", [&](Val i) {
      rowMax(k, G, 1, xBase, i, best, where);
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      // The outputs in row-major order, as before: the same sums.
      k.loop(k.i64(G.wo), "j", [&](Val j) {
        Val at = b.CreateLoad(b.getInt64Ty(),
                              b.CreateInBoundsGEP(b.getInt64Ty(), where, j));
        k.ifElse(b.CreateICmpSGE(at, k.i64(0)),
                 [&] {
                   addTo(k, b.CreateAdd(xBase, at),
                         k.load(0, b.CreateAdd(row, j)));
                 },
                 nullptr);
      });
    });
  });
}

void emitAvgPool2d(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  Val count = ConstantFP::get(k.f64(), static_cast<double>(G.kh * G.kw));
  Val sums = k.slot(ArrayType::get(k.f64(), static_cast<uint64_t>(G.wo)),
                    "sums");
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    k.loop(k.i64(G.ho), "i", [&](Val i) {
      k.loop(k.i64(G.wo), "j", [&](Val j) {
        b.CreateStore(ConstantFP::get(k.f64(), 0.0),
                      b.CreateInBoundsGEP(k.f64(), sums, j));
      });
      // Each output sums its window in row-major order, in double.
      rowWindows(k, G, i, [&](Val j, Val inside, Val idx) {
        Val v = k.load(0, b.CreateAdd(xBase, idx));
        Val sp = b.CreateInBoundsGEP(k.f64(), sums, j);
        Val x = b.CreateFPExt(b.CreateSelect(inside, v, k.f32(0)), k.f64());
        b.CreateStore(b.CreateFAdd(b.CreateLoad(k.f64(), sp), x), sp);
      });
      Val row = b.CreateAdd(yBase, b.CreateMul(i, k.i64(G.wo)));
      k.loop(k.i64(G.wo), "j", [&](Val j) {
        Val sum = b.CreateLoad(k.f64(), b.CreateInBoundsGEP(k.f64(), sums, j));
        k.store(b.CreateAdd(row, j),
                b.CreateFPTrunc(b.CreateFDiv(sum, count), k.f32()));
      });
    });
  });
}

void emitAvgPool2dGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operand dy; the result Node::shape.
  const std::vector<int64_t> &xd = k.node.type.dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  Val count = k.f32(static_cast<double>(G.kh * G.kw));
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    zeroPlane(k, xBase, G.h * G.w);
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
