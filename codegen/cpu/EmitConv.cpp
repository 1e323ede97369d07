//===- EmitConv.cpp - conv2d and its gradients as implicit GEMMs ----------===//
///
/// \file
/// conv2d and its data gradient, each a matrix product on EmitGemm.cpp's
/// packed, register-blocked micro-kernels (NCHW), and the helpers they
/// share with the weight gradient (EmitConvGradWeight.cpp):
///
///   conv2d, per image n and group g:
///     y[n, g] [Og, Ho*Wo] = w[g] [Og, Cg*kh*kw] @ patches [Cg*kh*kw, Ho*Wo]
///   conv2d_grad_input, per image n and group g (a transposed convolution):
///     dx[n, g] [Cg, H*W] = w[g]^T [Cg, Og*kh*kw] @ dy-taps [Og*kh*kw, H*W]
///
/// Algorithm: the patch matrix (im2col) is never stored: its elements are
/// computed while the GEMM packs its b panel (one kc x nr panel at a time:
/// a whole panel row as one masked vector gather, GemmSpec::bRow, or one
/// masked vector load where stride 1 keeps the width, as a "same"
/// convolution does), zero outside the image and past the last column.
/// For the data gradient, b's element (o, p, q; h, w) is dy[n, o, (h + pad
/// - p*dil) / stride, ...] where that division is exact and inside dy,
/// else zero, so each dx element sums its taps o-major, then p, then q, in
/// one fixed order (no scatter). With an activation gradient folded in,
/// dz = dy * act'(a) is formed once per image into a stack buffer
/// (formMaskedGrad) and the taps are read from it: each element's act'
/// once, not once per tap (kh*kw times). conv2d's bias, activation and
/// folded batch norm (a per-channel scale and shift, ir/ConvAffine.h) are
/// the GEMM's epilogue, on each finished tile (no second pass over y).
/// Every element of a product sums its terms in the order of its depth
/// index whatever the blocking (EmitGemm.cpp), and each element is
/// computed by one task: images (with groups) are split between the tasks
/// when there are at least as many as tasks, else every task takes its
/// share of each image's product. So the results are the same bits for any
/// thread count.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EmitSpatial.h"

#include "ir/ConvAffine.h"
#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

ImageGeom::ImageGeom(const std::vector<int64_t> &x,
                     const std::vector<int64_t> &y, const Window &win) {
  NN_ASSERT(x.size() == 4 && y.size() == 4,
            "a spatial kernel of " + dimsStr(x) + " and " + dimsStr(y));
  c = x[1], h = x[2], w = x[3];
  o = y[1], ho = y[2], wo = y[3];
  kh = win.kernel[0], kw = win.kernel[1];
  sh = win.stride[0], sw = win.stride[1];
  ph = win.padding[0], pw = win.padding[1];
  dh = win.dilation[0], dw = win.dilation[1];
  groups = win.groups;
}

namespace {

Val at(KernelEmitter &k, Val base, Val idx) {
  return k.b.CreateInBoundsGEP(k.f32(), base, idx);
}

} // namespace

/// Element (row, pix) of image `img`'s patch matrix for group `grp`: row
/// (c, p, q) of Cg*kh*kw, pixel (i, j) of Ho*Wo; x[n, grp*Cg + c, i*sh -
/// ph + p*dh, j*sw - pw + q*dw], zero outside. x is operand `xOp`.
Val patchAt(KernelEmitter &k, const ImageGeom &G, size_t xOp, Val img,
            Val grp, Val row, Val pix) {
  IRBuilder<> &b = k.b;
  Val kk = k.i64(G.kh * G.kw);
  Val c = b.CreateUDiv(row, kk), r = b.CreateURem(row, kk);
  Val p = b.CreateUDiv(r, k.i64(G.kw)), q = b.CreateURem(r, k.i64(G.kw));
  Val i = b.CreateUDiv(pix, k.i64(G.wo)), j = b.CreateURem(pix, k.i64(G.wo));
  Val ih = b.CreateAdd(b.CreateSub(b.CreateMul(i, k.i64(G.sh)), k.i64(G.ph)),
                       b.CreateMul(p, k.i64(G.dh)));
  Val iw = b.CreateAdd(b.CreateSub(b.CreateMul(j, k.i64(G.sw)), k.i64(G.pw)),
                       b.CreateMul(q, k.i64(G.dw)));
  // Unsigned: a negative coordinate is out of range too.
  Val inside = b.CreateAnd(b.CreateICmpULT(ih, k.i64(G.h)),
                           b.CreateICmpULT(iw, k.i64(G.w)));
  Val ch = b.CreateAdd(b.CreateAdd(b.CreateMul(img, k.i64(G.c)),
                                   b.CreateMul(grp, k.i64(G.cg()))),
                       c);
  Val idx = b.CreateAdd(
      b.CreateMul(b.CreateAdd(b.CreateMul(ch, k.i64(G.h)), ih), k.i64(G.w)),
      iw);
  Val v = k.load(xOp, b.CreateSelect(inside, idx, k.i64(0)));
  return b.CreateSelect(inside, v, k.f32(0));
}

/// Operand `dyOp` at `idx`, times act'(a) (operand `aOp`) when the node
/// has that operand.
Val gradAt(KernelEmitter &k, size_t dyOp, size_t aOp, Val idx) {
  Val dy = k.load(dyOp, idx);
  if (k.in.size() <= aOp || k.node.act == Activation::None)
    return dy;
  LlvmMath math{k};
  return math.mul(dy, emitActivationGrad(math, k.node.act, k.load(aOp, idx),
                                         k.node.param));
}

void formMaskedGrad(KernelEmitter &k, size_t dyOp, Val first, int64_t count,
                    Val dz) {
  IRBuilder<> &b = k.b;
  Lanes v{k, 16};
  Val dy = at(k, k.in[dyOp].ptr, first), a = at(k, k.in[2].ptr, first);
  k.loop(k.i64((count + 15) / 16), "dz", [&](Val c) {
    Val e = b.CreateMul(c, k.i64(16));
    Val mask = b.CreateICmpULT(v.iota(e), v.c(count));
    LlvmMath math{k, v.n};
    Val d = math.mul(
        v.load(dy, e, mask),
        emitActivationGrad(math, k.node.act, v.load(a, e, mask), k.node.param));
    b.CreateMaskedStore(d, at(k, dz, e), Align(4), mask);
  });
}

namespace {

/// The most weights conv2d_grad_input copies transposed onto its stack
/// (256 KiB).
constexpr int64_t kMaxTransposedWeight = 65536;

/// The units (image, group) of a per-image product, split between the
/// tasks when there are at least as many units as tasks: then each task
/// runs its units' products alone (k.part, k.parts set to 0 of 1 while
/// `body` emits), else every task runs every unit's product, its share of
/// each. body(unit).
void perImage(KernelEmitter &k, Val units,
              const std::function<void(Val)> &body) {
  IRBuilder<> &b = k.b;
  Val part = k.part, parts = k.parts;
  Val byUnits = b.CreateICmpSLE(parts, units);
  Val begin = b.CreateSelect(
      byUnits, b.CreateSDiv(b.CreateMul(part, units), parts), k.i64(0));
  Val end = b.CreateSelect(
      byUnits,
      b.CreateSDiv(b.CreateMul(b.CreateAdd(part, k.i64(1)), units), parts),
      units);
  k.part = b.CreateSelect(byUnits, k.i64(0), part);
  k.parts = b.CreateSelect(byUnits, k.i64(1), parts);
  Val out = k.out;
  k.loop(b.CreateSub(end, begin), "unit",
         [&](Val u) { body(b.CreateAdd(begin, u)); });
  k.out = out;
  k.part = part;
  k.parts = parts;
}

/// Row `row` = (c, p, q) of image `img`'s patch matrix for group `grp`
/// over pixels j .. j + width - 1, into dst: gathered, or one masked load
/// where stride 1 keeps the width (Wo = W): the pixels' elements are then
/// consecutive in x. Zero outside the image and past the last pixel.
void patchRow(KernelEmitter &k, const ImageGeom &G, Val img, Val grp, Val row,
              Val j, Val dst, int64_t width) {
  IRBuilder<> &b = k.b;
  const int64_t pixels = G.ho * G.wo;
  const bool contiguous = G.sh == 1 && G.sw == 1 && G.wo == G.w;
  Lanes v{k, static_cast<unsigned>(width)};
  Val kk = k.i64(G.kh * G.kw);
  Val c = b.CreateUDiv(row, kk), r = b.CreateURem(row, kk);
  Val p = b.CreateUDiv(r, k.i64(G.kw)), q = b.CreateURem(r, k.i64(G.kw));
  Val offH = b.CreateSub(b.CreateMul(p, k.i64(G.dh)), k.i64(G.ph));
  Val offW = b.CreateSub(b.CreateMul(q, k.i64(G.dw)), k.i64(G.pw));
  Val jv = v.iota(j);
  Val i = b.CreateUDiv(jv, v.c(G.wo));
  Val jw = b.CreateSub(jv, b.CreateMul(i, v.c(G.wo)));
  Val ih = b.CreateAdd(b.CreateMul(i, v.c(G.sh)), v.splat(offH));
  Val iw = b.CreateAdd(b.CreateMul(jw, v.c(G.sw)), v.splat(offW));
  Val mask = b.CreateAnd(b.CreateAnd(b.CreateICmpULT(ih, v.c(G.h)),
                                     b.CreateICmpULT(iw, v.c(G.w))),
                         b.CreateICmpULT(jv, v.c(pixels)));
  Val ch = b.CreateAdd(b.CreateAdd(b.CreateMul(img, k.i64(G.c)),
                                   b.CreateMul(grp, k.i64(G.cg()))),
                       c);
  Val plane = at(k, k.in[0].ptr, b.CreateMul(ch, k.i64(G.h * G.w)));
  if (contiguous) { // (i + offH) * W + jw + offW = j + offH * W + offW
    Val first =
        b.CreateAdd(j, b.CreateAdd(b.CreateMul(offH, k.i64(G.w)), offW));
    b.CreateAlignedStore(v.load(plane, first, mask), dst, Align(4));
    return;
  }
  Val idx = b.CreateAdd(b.CreateMul(ih, v.c(G.w)), iw);
  b.CreateAlignedStore(v.gather(plane, idx, mask), dst, Align(4));
}

/// w^T per group, [G][Cg][Og*kh*kw] (w is operand 1), copied once per call
/// onto the stack when it is small, so that the micro-kernel reads a in
/// place; else nullptr (a is then packed from w for each image).
Val transposedWeight(KernelEmitter &k, const ImageGeom &G) {
  IRBuilder<> &b = k.b;
  const int64_t taps = G.kh * G.kw, depth = G.og() * taps;
  const int64_t wNumel = G.o * G.cg() * taps;
  if (!k.in[1].ptr || wNumel > kMaxTransposedWeight)
    return nullptr;
  Val wt = k.slot(ArrayType::get(k.f32(), static_cast<uint64_t>(wNumel)), "wt");
  k.loop(k.i64(G.groups * G.cg()), "gc", [&](Val gc) {
    Val grp = b.CreateUDiv(gc, k.i64(G.cg()));
    Val c = b.CreateURem(gc, k.i64(G.cg()));
    k.loop(k.i64(depth), "r", [&](Val r) {
      Val o = b.CreateAdd(b.CreateMul(grp, k.i64(G.og())),
                          b.CreateUDiv(r, k.i64(taps)));
      Val from = b.CreateAdd(
          b.CreateMul(b.CreateAdd(b.CreateMul(o, k.i64(G.cg())), c),
                      k.i64(taps)),
          b.CreateURem(r, k.i64(taps)));
      k.storeTo(wt, b.CreateAdd(b.CreateMul(gc, k.i64(depth)), r),
                k.load(1, from));
    });
  });
  return wt;
}

/// The data gradient's b((o, p, q), (h, w)) for image `img`, group `grp`:
/// dy[n, o, i, j] (* act'(a)) where h = i*sh - ph + p*dh and w = j*sw - pw
/// + q*dw, else 0. dy is operand 0, a operand 2.
Val dyTapAt(KernelEmitter &k, const ImageGeom &G, Val img, Val grp, Val r,
            Val pix) {
  IRBuilder<> &b = k.b;
  const int64_t taps = G.kh * G.kw, outPixels = G.ho * G.wo;
  Val o = b.CreateUDiv(r, k.i64(taps)), t = b.CreateURem(r, k.i64(taps));
  Val p = b.CreateUDiv(t, k.i64(G.kw)), q = b.CreateURem(t, k.i64(G.kw));
  Val h = b.CreateUDiv(pix, k.i64(G.w)), w = b.CreateURem(pix, k.i64(G.w));
  Val th =
      b.CreateSub(b.CreateAdd(h, k.i64(G.ph)), b.CreateMul(p, k.i64(G.dh)));
  Val tw =
      b.CreateSub(b.CreateAdd(w, k.i64(G.pw)), b.CreateMul(q, k.i64(G.dw)));
  // Unsigned: a negative th divides to a number past Ho.
  Val i = b.CreateUDiv(th, k.i64(G.sh)), j = b.CreateUDiv(tw, k.i64(G.sw));
  Val ok = b.CreateAnd(
      b.CreateAnd(b.CreateICmpEQ(b.CreateURem(th, k.i64(G.sh)), k.i64(0)),
                  b.CreateICmpEQ(b.CreateURem(tw, k.i64(G.sw)), k.i64(0))),
      b.CreateAnd(b.CreateICmpULT(i, k.i64(G.ho)),
                  b.CreateICmpULT(j, k.i64(G.wo))));
  Val ch = b.CreateAdd(b.CreateMul(img, k.i64(G.o)),
                       b.CreateAdd(b.CreateMul(grp, k.i64(G.og())), o));
  Val idx = b.CreateAdd(b.CreateMul(ch, k.i64(outPixels)),
                        b.CreateAdd(b.CreateMul(i, k.i64(G.wo)), j));
  Val v = gradAt(k, 0, 2, b.CreateSelect(ok, idx, k.i64(0)));
  return b.CreateSelect(ok, v, k.f32(0));
}

/// Where the data gradient's b reads dy: operand 0 at the image's planes
/// (dy * act'(a) lane by lane when `masked`), or `dz`, this image's and
/// group's dy * act'(a) [Og, Ho*Wo] formed once per call (formMaskedGrad).
struct DyTaps {
  Val img, grp;
  bool masked = false;
  Val dz = nullptr;
};

/// A panel row of the data gradient's b: one tap r = (o, p, q) over pixels
/// pix .. pix + width - 1 into dst, gathered (one masked load where stride
/// 1 keeps the width), from `src` (DyTaps).
void dyTapRow(KernelEmitter &k, const ImageGeom &G, const DyTaps &src, Val r,
              Val pix, Val dst, int64_t width) {
  Val img = src.img, grp = src.grp;
  bool masked = src.masked && !src.dz;
  IRBuilder<> &b = k.b;
  const int64_t taps = G.kh * G.kw;
  const int64_t pixels = G.h * G.w, outPixels = G.ho * G.wo;
  const bool contiguous = G.sh == 1 && G.sw == 1 && G.wo == G.w;
  Lanes v{k, static_cast<unsigned>(width)};
  Val o = b.CreateUDiv(r, k.i64(taps)), t = b.CreateURem(r, k.i64(taps));
  Val p = b.CreateUDiv(t, k.i64(G.kw)), q = b.CreateURem(t, k.i64(G.kw));
  Val offH = b.CreateSub(k.i64(G.ph), b.CreateMul(p, k.i64(G.dh)));
  Val offW = b.CreateSub(k.i64(G.pw), b.CreateMul(q, k.i64(G.dw)));
  Val pv = v.iota(pix);
  Val h = b.CreateUDiv(pv, v.c(G.w));
  Val w = b.CreateSub(pv, b.CreateMul(h, v.c(G.w)));
  Val th = b.CreateAdd(h, v.splat(offH));
  Val tw = b.CreateAdd(w, v.splat(offW));
  // Unsigned: a negative th divides to a number past Ho.
  Val i = b.CreateUDiv(th, v.c(G.sh)), j = b.CreateUDiv(tw, v.c(G.sw));
  Val ok = b.CreateAnd(
      b.CreateAnd(
          b.CreateICmpEQ(b.CreateSub(th, b.CreateMul(i, v.c(G.sh))), v.c(0)),
          b.CreateICmpEQ(b.CreateSub(tw, b.CreateMul(j, v.c(G.sw))), v.c(0))),
      b.CreateAnd(b.CreateAnd(b.CreateICmpULT(i, v.c(G.ho)),
                              b.CreateICmpULT(j, v.c(G.wo))),
                  b.CreateICmpULT(pv, v.c(pixels))));
  Val ch = src.dz
               ? o
               : b.CreateAdd(b.CreateMul(img, k.i64(G.o)),
                             b.CreateAdd(b.CreateMul(grp, k.i64(G.og())), o));
  Val plane = b.CreateMul(ch, k.i64(outPixels));
  Val idx = b.CreateAdd(b.CreateMul(i, v.c(G.wo)), j);
  // Stride 1 and Wo = W: (h + offH) * Wo + w + offW = pix + offH * W + offW,
  // consecutive.
  Val first =
      b.CreateAdd(pix, b.CreateAdd(b.CreateMul(offH, k.i64(G.w)), offW));
  auto read = [&](size_t op) {
    Val base = at(k, src.dz && op == 0 ? src.dz : k.in[op].ptr, plane);
    return contiguous ? v.load(base, first, ok) : v.gather(base, idx, ok);
  };
  Val d = read(0);
  if (masked) {
    LlvmMath math{k, v.n};
    Val a = read(2);
    d = math.mul(d, emitActivationGrad(math, k.node.act, a, k.node.param));
    // Lanes outside dy are 0, whatever act'(0) is.
    d = b.CreateSelect(ok, d, ConstantAggregateZero::get(d->getType()));
  }
  b.CreateAlignedStore(d, dst, Align(4));
}

} // namespace

void emitConv2d(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.node.type.dims, k.node.win);
  const int64_t depth = G.cg() * G.kh * G.kw, pixels = G.ho * G.wo;
  Val units = b.CreateMul(k.dim(xd[0]), k.i64(G.groups));
  Val out = k.out;
  // The bias and the folded batch norm (ir/ConvAffine.h), in the epilogue.
  const ConvOperands ops = convOperands(k.node);
  const bool after = affineAfterAct(k.node);
  LlvmMath math{k};
  perImage(k, units, [&](Val u) {
    Val img = b.CreateUDiv(u, k.i64(G.groups));
    Val grp = b.CreateURem(u, k.i64(G.groups));
    Val row0 = b.CreateMul(grp, k.i64(G.og())); // the group's first channel
    Val wOff = b.CreateMul(row0, k.i64(depth));
    k.out = at(k, out,
               b.CreateMul(b.CreateAdd(b.CreateMul(img, k.i64(G.o)), row0),
                           k.i64(pixels)));
    GemmSpec gemm(k.i64(G.og()), k.i64(depth), k.i64(pixels));
    gemm.a = [&](Val i, Val p) {
      return k.load(1, b.CreateAdd(wOff,
                                   b.CreateAdd(b.CreateMul(i, k.i64(depth)),
                                               p)));
    };
    if (k.in[1].ptr) {
      gemm.aBase = at(k, k.in[1].ptr, wOff);
      gemm.aRowStride = k.i64(depth);
      gemm.aColStride = k.i64(1);
    }
    gemm.b = [&](Val p, Val j) { return patchAt(k, G, 0, img, grp, p, j); };
    if (k.in[0].ptr)
      gemm.bRow = [&](Val row, Val j, Val dst, int64_t width) {
        patchRow(k, G, img, grp, row, j, dst, width);
      };
    // b[o], s[o], t[o] of output row i, as scalars or 8-lane splats.
    auto chan = [&](int op, Val i, int lanes) {
      Val v = k.load(static_cast<size_t>(op), b.CreateAdd(row0, i));
      return lanes > 1 ? b.CreateVectorSplat(lanes, v) : v;
    };
    auto finish = [&](LlvmMath &m, Val i, Val acc, int lanes) {
      Val z = ops.bias >= 0 ? m.add(acc, chan(ops.bias, i, lanes)) : acc;
      auto affine = [&](Val v) {
        return m.add(m.mul(v, chan(ops.scale, i, lanes)),
                     chan(ops.shift, i, lanes));
      };
      if (ops.hasAffine() && !after)
        z = affine(z);
      z = emitActivation(m, k.node.act, z, k.node.param);
      return ops.hasAffine() && after ? affine(z) : z;
    };
    EpilogueFn epi = [&](Val i, Val, Val acc) {
      return finish(math, i, acc, 1);
    };
    if (ops.bias >= 0 || ops.hasAffine() || k.node.act != Activation::None) {
      gemm.epilogue = &epi;
      gemm.vecEpilogue = [&](Val i, Val, Val acc) {
        LlvmMath vmath{k, 8};
        return finish(vmath, i, acc, 8);
      };
    }
    emitGemm(k, gemm);
  });
}

void emitConv2dGradInput(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands dy, w, optional a; the result x's shape [N, C, H, W].
  const std::vector<int64_t> &xd = k.node.type.dims;
  ImageGeom G(xd, k.inType(0).dims, k.node.win);
  const int64_t taps = G.kh * G.kw, depth = G.og() * taps;
  const int64_t pixels = G.h * G.w;
  Val units = b.CreateMul(k.dim(xd[0]), k.i64(G.groups));
  Val out = k.out;
  Val wt = transposedWeight(k, G);
  bool masked = k.in.size() > 2 && k.node.act != Activation::None;
  // dy * act'(a) formed once per image (not once per tap while packing).
  Val dz = nullptr;
  if (masked && k.in[0].ptr && k.in[2].ptr &&
      G.og() * G.ho * G.wo <= kMaxImageGrad)
    dz = k.slot(
        ArrayType::get(k.f32(), static_cast<uint64_t>(G.og() * G.ho * G.wo)),
        "dz");
  perImage(k, units, [&](Val u) {
    Val img = b.CreateUDiv(u, k.i64(G.groups));
    Val grp = b.CreateURem(u, k.i64(G.groups));
    if (dz)
      formMaskedGrad(k, 0,
                     b.CreateMul(b.CreateAdd(b.CreateMul(img, k.i64(G.o)),
                                             b.CreateMul(grp, k.i64(G.og()))),
                                 k.i64(G.ho * G.wo)),
                     G.og() * G.ho * G.wo, dz);
    DyTaps src{img, grp, masked, dz};
    k.out = at(k, out,
               b.CreateMul(b.CreateAdd(b.CreateMul(img, k.i64(G.c)),
                                       b.CreateMul(grp, k.i64(G.cg()))),
                           k.i64(pixels)));
    GemmSpec gemm(k.i64(G.cg()), k.i64(depth), k.i64(pixels));
    // a(c, (o, p, q)) = w[grp*Og + o, c, p, q].
    gemm.a = [&](Val c, Val r) {
      Val o = b.CreateAdd(b.CreateMul(grp, k.i64(G.og())),
                          b.CreateUDiv(r, k.i64(taps)));
      Val idx = b.CreateAdd(
          b.CreateMul(b.CreateAdd(b.CreateMul(o, k.i64(G.cg())), c),
                      k.i64(taps)),
          b.CreateURem(r, k.i64(taps)));
      return k.load(1, idx);
    };
    if (wt) {
      gemm.aBase = at(k, wt, b.CreateMul(grp, k.i64(G.cg() * depth)));
      gemm.aRowStride = k.i64(depth);
      gemm.aColStride = k.i64(1);
    } else {
      gemm.packA = true;
    }
    gemm.b = [&](Val r, Val pix) { return dyTapAt(k, G, img, grp, r, pix); };
    if (k.in[0].ptr && (!masked || k.in[2].ptr))
      gemm.bRow = [&](Val r, Val pix, Val dst, int64_t width) {
        dyTapRow(k, G, src, r, pix, dst, width);
      };
    emitGemm(k, gemm);
  });
}

} // namespace nn::cpu
