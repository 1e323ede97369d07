//===- EmitPool.cpp - Max and average pooling and their gradients ---------===//
///
/// \file
/// The pooling kernels of ir/Ops.def on NCHW images. Algorithm: the planes
/// (n, c) are independent and split between the tasks (splitLoop); in a
/// plane, each output visits its window row-major. maxpool2d keeps the
/// first maximum of the elements inside the image (padding never wins; a
/// NaN wins, as in PyTorch); avgpool2d sums in double and divides by
/// kh * kw (padding counted).
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

/// The first maximum of the window at (i, j) of the plane at `xBase` of
/// operand `xOp` (or its last NaN): its value and its index in the plane
/// (-inf and -1 when no element is inside, which the shape rule rules
/// out).
std::pair<Val, Val> windowMax(KernelEmitter &k, const ImageGeom &G,
                              size_t xOp, Val xBase, Val i, Val j) {
  IRBuilder<> &b = k.b;
  Val best = k.slot(k.f32(), "best"), where = k.slot(b.getInt64Ty(), "where");
  b.CreateStore(k.f32(-std::numeric_limits<double>::infinity()), best);
  b.CreateStore(k.i64(-1), where);
  window(k, G, i, j, [&](Val inside, Val idx) {
    Val v = k.load(xOp, b.CreateAdd(xBase, idx));
    Val cur = b.CreateLoad(k.f32(), best);
    Val none = b.CreateICmpSLT(b.CreateLoad(b.getInt64Ty(), where), k.i64(0));
    // A NaN wins (the last one), as in PyTorch.
    Val take = b.CreateAnd(
        inside, b.CreateOr(b.CreateOr(none, b.CreateFCmpOGT(v, cur)),
                           b.CreateFCmpUNO(v, v)));
    b.CreateStore(b.CreateSelect(take, v, cur), best);
    b.CreateStore(b.CreateSelect(take, idx,
                                 b.CreateLoad(b.getInt64Ty(), where)),
                  where);
  });
  return {b.CreateLoad(k.f32(), best), b.CreateLoad(b.getInt64Ty(), where)};
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
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    outputs(k, G, [&](Val i, Val j, Val o) {
      k.store(k.b.CreateAdd(yBase, o), windowMax(k, G, 0, xBase, i, j).first);
    });
  });
}

void emitMaxPool2dGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands dy, x; the result x's shape.
  const std::vector<int64_t> &xd = k.inType(1).dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    zeroPlane(k, xBase, G.h * G.w);
    outputs(k, G, [&](Val i, Val j, Val o) {
      auto [v, where] = windowMax(k, G, 1, xBase, i, j);
      (void)v;
      k.ifElse(b.CreateICmpSGE(where, k.i64(0)),
               [&] {
                 addTo(k, b.CreateAdd(xBase, where),
                       k.load(0, b.CreateAdd(yBase, o)));
               },
               nullptr);
    });
  });
}

void emitAvgPool2d(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  Val count = ConstantFP::get(k.f64(), static_cast<double>(G.kh * G.kw));
  planes(k, G, k.dim(xd[0]), [&](Val, Val xBase, Val yBase) {
    outputs(k, G, [&](Val i, Val j, Val o) {
      Val acc = k.accumulator("acc");
      window(k, G, i, j, [&](Val inside, Val idx) {
        Val v = k.load(0, b.CreateAdd(xBase, idx));
        k.accumulate(acc, b.CreateSelect(inside, v, k.f32(0)));
      });
      Val mean = b.CreateFDiv(b.CreateLoad(k.f64(), acc), count);
      k.store(b.CreateAdd(yBase, o), b.CreateFPTrunc(mean, k.f32()));
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
