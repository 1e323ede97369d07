//===- EmitConvGradWeight.cpp - conv2d's weight gradient ------------------===//
///
/// \file
/// conv2d_grad_weight, per group g: dw[g] [Og, Cg*kh*kw] = dz[:, g] [Og,
/// N*Ho*Wo] @ patches^T, where dz = dy, or dy * act'(a) with an activation
/// gradient folded in (NCHW). Three ways, the first that fits:
///
/// 1. Few columns (Cg*kh*kw < 16, the 1-channel first layer's 9:
///    weightGradByChannel), too narrow for a GEMM tile: a direct loop nest
///    split between the tasks by output channel. For channel o, each image
///    n and output row i, 16 output columns j at a time: dz once (one
///    masked load of dy and of a), then for every column t = (c, p, q) one
///    FMA into t's 16-lane accumulator with x[n, grp*Cg + c, i*sh - ph +
///    p*dh, j*sw - pw + q*dw] (a masked load for stride 1, else a masked
///    gather; zero outside the image and past Wo). Each lane sums n-major,
///    then i, then j; the lanes are added in order at the end.
/// 2. Image by image (an image's Og x Ho*Wo fits kMaxImageGrad): for each
///    image the product of depth Ho*Wo, its sums continuing from the
///    previous image's (GemmSpec::accumulate): the same sums, term by term,
///    as one product over N*Ho*Wo. a is read in place: dy itself, or dz
///    formed once per image into a stack buffer (formMaskedGrad: two
///    contiguous loads per 16 elements, not two gathers per tile column);
///    the patches are formed while b is packed. The tasks split the
///    columns (EmitGemm); each forms dz for every image (a cheap pass).
/// 3. Otherwise one product over N*Ho*Wo, a packed from dy (* act'(a))
///    gathered HoWo apart.
///
/// Every element of dw is computed by one task in one fixed order, so the
/// results are the same bits for any thread count.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EmitSpatial.h"

#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

Val at(KernelEmitter &k, Val base, Val idx) {
  return k.b.CreateInBoundsGEP(k.f32(), base, idx);
}

constexpr unsigned kLanes = 16;

/// Way 1: one output channel's row of dw, the accumulators of its columns.
class ChannelRow {
public:
  ChannelRow(KernelEmitter &k, const ImageGeom &G, bool masked)
      : k(k), b(k.b), G(G), masked(masked), cols(G.cg() * G.kh * G.kw),
        vt(FixedVectorType::get(k.f32(), kLanes)) {
    for (int64_t t = 0; t < cols; ++t)
      acc.push_back(k.slot(vt, "acc"));
  }

  /// dw[o, :] for output channel o.
  void emit(Val o) {
    for (Val a : acc)
      b.CreateStore(ConstantAggregateZero::get(vt), a);
    Val grp = b.CreateUDiv(o, k.i64(G.og()));
    k.loop(k.dim(k.inType(0).dims[0]), "n", [&](Val n) {
      Val dyPlane = b.CreateMul(b.CreateAdd(b.CreateMul(n, k.i64(G.o)), o),
                                k.i64(G.ho * G.wo));
      Val xImage = b.CreateMul(b.CreateAdd(b.CreateMul(n, k.i64(G.c)),
                                           b.CreateMul(grp, k.i64(G.cg()))),
                               k.i64(G.h * G.w));
      k.loop(k.i64(G.ho), "i", [&](Val i) {
        k.loop(k.i64((G.wo + kLanes - 1) / kLanes), "j", [&](Val jc) {
          outputs(dyPlane, xImage, i, b.CreateMul(jc, k.i64(kLanes)));
        });
      });
    });
    Val dst = b.CreateMul(o, k.i64(cols));
    for (int64_t t = 0; t < cols; ++t) {
      Val v = b.CreateLoad(vt, acc[static_cast<size_t>(t)]);
      Val sum = b.CreateExtractElement(v, uint64_t(0));
      for (unsigned l = 1; l < kLanes; ++l)
        sum = b.CreateFAdd(sum, b.CreateExtractElement(v, l));
      k.store(b.CreateAdd(dst, k.i64(t)), sum);
    }
  }

private:
  KernelEmitter &k;
  IRBuilder<> &b;
  const ImageGeom &G;
  bool masked;
  const int64_t cols;
  Type *vt;
  std::vector<Val> acc;

  /// The 16 outputs j .. j + 15 of row i: dz once, then every column.
  void outputs(Val dyPlane, Val xImage, Val i, Val j) {
    Lanes v{k, kLanes};
    Val jv = v.iota(j);
    Val inRow = b.CreateICmpULT(jv, v.c(G.wo));
    Val first =
        b.CreateAdd(dyPlane, b.CreateAdd(b.CreateMul(i, k.i64(G.wo)), j));
    Val d = v.load(k.in[1].ptr, first, inRow);
    if (masked) {
      LlvmMath math{k, kLanes};
      Val a = v.load(k.in[2].ptr, first, inRow);
      d = math.mul(d, emitActivationGrad(math, k.node.act, a, k.node.param));
    }
    Function *fma = Intrinsic::getDeclaration(b.GetInsertBlock()->getModule(),
                                              Intrinsic::fma, {vt});
    size_t t = 0;
    for (int64_t c = 0; c < G.cg(); ++c)
      for (int64_t p = 0; p < G.kh; ++p) {
        Val ih =
            b.CreateAdd(b.CreateMul(i, k.i64(G.sh)), k.i64(p * G.dh - G.ph));
        Val rowOk =
            b.CreateVectorSplat(kLanes, b.CreateICmpULT(ih, k.i64(G.h)));
        // Not inbounds: ih may be outside (then every lane is masked off).
        Val plane = b.CreateGEP(
            k.f32(), k.in[0].ptr,
            b.CreateAdd(xImage, b.CreateMul(b.CreateAdd(k.i64(c * G.h), ih),
                                            k.i64(G.w))));
        for (int64_t q = 0; q < G.kw; ++q, ++t) {
          Val iw =
              b.CreateAdd(b.CreateMul(jv, v.c(G.sw)), v.c(q * G.dw - G.pw));
          Val mask = b.CreateAnd(
              b.CreateAnd(inRow, b.CreateICmpULT(iw, v.c(G.w))), rowOk);
          Val xv =
              G.sw == 1
                  ? v.load(plane, b.CreateAdd(j, k.i64(q * G.dw - G.pw)), mask)
                  : v.gather(plane, iw, mask);
          b.CreateStore(b.CreateCall(fma, {d, xv, b.CreateLoad(vt, acc[t])}),
                        acc[t]);
        }
      }
  }
};

/// conv2d_grad_weight's two operands for group `grp` (its first output
/// channel `row0`), as elements and as panel vectors: dy (* act'(a))
/// [Og, N*Ho*Wo] and the patch matrix transposed [N*Ho*Wo, Cg*kh*kw].
struct WeightGradOperands {
  KernelEmitter &k;
  const ImageGeom &G;
  int64_t cols, pixels;
  bool masked; ///< dy is multiplied by act'(a)
  Val grp = nullptr, row0 = nullptr;
  /// dy[n, row0 + i, pix] (* act'(a)) at depth p = (n, pix).
  Val dyElem(Val i, Val p);
  /// dyElem(i + r, p) at dst[r] for r < height, 0 past Og.
  void dyLanes(Val i, Val p, Val dst, int64_t height);
  /// The patch element of column (c, p, q) j at depth p = (n, pix).
  Val patchElem(Val p, Val j);
  /// patchElem(row, j + q) at dst[q] for q < width, 0 past the columns.
  void patchLanes(Val row, Val j, Val dst, int64_t width);
};

Val WeightGradOperands::dyElem(Val i, Val p) {
  IRBuilder<> &b = k.b;
  Val img = b.CreateUDiv(p, k.i64(pixels));
  Val pix = b.CreateURem(p, k.i64(pixels));
  Val ch = b.CreateAdd(b.CreateMul(img, k.i64(G.o)), b.CreateAdd(row0, i));
  return gradAt(k, 1, 2, b.CreateAdd(b.CreateMul(ch, k.i64(pixels)), pix));
}

// Gathered (HoWo apart), dy * act'(a) lane by lane.
void WeightGradOperands::dyLanes(Val i, Val p, Val dst, int64_t height) {
  IRBuilder<> &b = k.b;
  Lanes v{k, static_cast<unsigned>(height)};
  Val img = b.CreateUDiv(p, k.i64(pixels));
  Val pix = b.CreateURem(p, k.i64(pixels));
  Val rows = v.iota(i);
  Val ok = b.CreateICmpULT(rows, v.c(G.og()));
  Val base =
      b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(img, k.i64(G.o)), row0),
                              k.i64(pixels)),
                  pix);
  Val idx = b.CreateMul(rows, v.c(pixels));
  Val d = v.gather(at(k, k.in[1].ptr, base), idx, ok);
  if (masked) {
    LlvmMath math{k, v.n};
    Val a = v.gather(at(k, k.in[2].ptr, base), idx, ok);
    d = math.mul(d, emitActivationGrad(math, k.node.act, a, k.node.param));
    d = b.CreateSelect(ok, d, ConstantAggregateZero::get(d->getType()));
  }
  b.CreateAlignedStore(d, dst, Align(4));
}

Val WeightGradOperands::patchElem(Val p, Val j) {
  Val img = k.b.CreateUDiv(p, k.i64(pixels));
  Val pix = k.b.CreateURem(p, k.i64(pixels));
  return patchAt(k, G, 0, img, grp, j, pix);
}

// One pixel of one image over columns (c, p, q), gathered.
void WeightGradOperands::patchLanes(Val row, Val j, Val dst, int64_t width) {
  IRBuilder<> &b = k.b;
  Lanes v{k, static_cast<unsigned>(width)};
  Val img = b.CreateUDiv(row, k.i64(pixels));
  Val pix = b.CreateURem(row, k.i64(pixels));
  Val i = b.CreateUDiv(pix, k.i64(G.wo)), jw = b.CreateURem(pix, k.i64(G.wo));
  Val ih0 = b.CreateSub(b.CreateMul(i, k.i64(G.sh)), k.i64(G.ph));
  Val iw0 = b.CreateSub(b.CreateMul(jw, k.i64(G.sw)), k.i64(G.pw));
  Val jv = v.iota(j);
  Val kk = v.c(G.kh * G.kw);
  Val c = b.CreateUDiv(jv, kk);
  Val r = b.CreateSub(jv, b.CreateMul(c, kk));
  Val p = b.CreateUDiv(r, v.c(G.kw));
  Val q = b.CreateSub(r, b.CreateMul(p, v.c(G.kw)));
  Val ih = b.CreateAdd(v.splat(ih0), b.CreateMul(p, v.c(G.dh)));
  Val iw = b.CreateAdd(v.splat(iw0), b.CreateMul(q, v.c(G.dw)));
  Val mask = b.CreateAnd(
      b.CreateAnd(b.CreateICmpULT(ih, v.c(G.h)), b.CreateICmpULT(iw, v.c(G.w))),
      b.CreateICmpULT(jv, v.c(cols)));
  Val ch = b.CreateAdd(b.CreateMul(img, k.i64(G.c)),
                       b.CreateMul(grp, k.i64(G.cg())));
  Val image = at(k, k.in[0].ptr, b.CreateMul(ch, k.i64(G.h * G.w)));
  Val idx = b.CreateAdd(
      b.CreateMul(b.CreateAdd(b.CreateMul(c, v.c(G.h)), ih), v.c(G.w)), iw);
  b.CreateAlignedStore(v.gather(image, idx, mask), dst, Align(4));
}

/// Way 2: image by image, a read in place (dy, or dz formed into the
/// stack buffer `dz` when the gradient is masked).
void emitByImage(KernelEmitter &k, WeightGradOperands &ops, Val dz) {
  IRBuilder<> &b = k.b;
  const ImageGeom &G = ops.G;
  const int64_t cols = ops.cols, pixels = ops.pixels;
  Val images = k.dim(k.inType(0).dims[0]);
  Val out = k.out;
  // No image: dw = 0 (one task writes it).
  k.ifElse(
      b.CreateAnd(b.CreateICmpEQ(images, k.i64(0)),
                  b.CreateICmpEQ(k.part, k.i64(0))),
      [&] {
        k.loop(k.i64(G.o * cols), "z", [&](Val e) { k.store(e, k.f32(0)); });
      },
      nullptr);
  k.loop(k.i64(G.groups), "grp", [&](Val g) {
    ops.grp = g;
    ops.row0 = b.CreateMul(g, k.i64(G.og()));
    k.out = at(k, out, b.CreateMul(ops.row0, k.i64(cols)));
    k.loop(images, "img", [&](Val n) {
      Val first = b.CreateMul(b.CreateAdd(b.CreateMul(n, k.i64(G.o)), ops.row0),
                              k.i64(pixels));
      Val a = at(k, k.in[1].ptr, first);
      if (dz) {
        formMaskedGrad(k, 1, first, G.og() * pixels, dz);
        a = dz;
      }
      GemmSpec gemm(k.i64(G.og()), k.i64(pixels), k.i64(cols));
      gemm.a = [&](Val i, Val p) {
        return b.CreateLoad(
            k.f32(), at(k, a, b.CreateAdd(b.CreateMul(i, k.i64(pixels)), p)));
      };
      gemm.aBase = a;
      gemm.aRowStride = k.i64(pixels);
      gemm.aColStride = k.i64(1);
      Val depth0 = b.CreateMul(n, k.i64(pixels));
      gemm.b = [&](Val p, Val j) {
        return ops.patchElem(b.CreateAdd(depth0, p), j);
      };
      gemm.bRow = [&](Val row, Val j, Val dst, int64_t w) {
        ops.patchLanes(b.CreateAdd(depth0, row), j, dst, w);
      };
      gemm.accumulate = b.CreateICmpNE(n, k.i64(0));
      emitGemm(k, gemm);
    });
  });
  k.out = out;
}

} // namespace

void emitConv2dGradWeight(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands x, dy, optional a; the result [O, Cg, kh, kw].
  const std::vector<int64_t> &xd = k.inType(0).dims;
  ImageGeom G(xd, k.inType(1).dims, k.node.win);
  const int64_t cols = G.cg() * G.kh * G.kw, pixels = G.ho * G.wo;
  Val depth = b.CreateMul(k.dim(xd[0]), k.i64(pixels));
  bool masked = k.in.size() > 2 && k.node.act != Activation::None;
  WeightGradOperands ops{k, G, cols, pixels, masked};
  bool dyVec = k.in[1].ptr && (!masked || k.in[2].ptr);
  bool xVec = k.in[0].ptr != nullptr;
  if (weightGradByChannel(cols, G.og()) && xVec && dyVec) {
    ChannelRow row(k, G, masked);
    k.splitLoop(k.i64(G.o), "o", [&](Val o) { row.emit(o); });
    return;
  }
  if (xVec && dyVec && G.og() * pixels <= kMaxImageGrad) {
    Val dz = nullptr;
    if (masked)
      dz = k.slot(
          ArrayType::get(k.f32(), static_cast<uint64_t>(G.og() * pixels)),
          "dz");
    return emitByImage(k, ops, dz);
  }
  Val out = k.out;
  k.loop(k.i64(G.groups), "grp", [&](Val g) {
    ops.grp = g;
    ops.row0 = b.CreateMul(g, k.i64(G.og()));
    k.out = at(k, out, b.CreateMul(ops.row0, k.i64(cols)));
    GemmSpec gemm(k.i64(G.og()), depth, k.i64(cols));
    gemm.a = [&](Val i, Val p) { return ops.dyElem(i, p); };
    gemm.packA = true;
    if (dyVec)
      gemm.aCol = [&](Val i, Val p, Val dst, int64_t h) {
        ops.dyLanes(i, p, dst, h);
      };
    gemm.b = [&](Val p, Val j) { return ops.patchElem(p, j); };
    if (xVec)
      gemm.bRow = [&](Val row, Val j, Val dst, int64_t w) {
        ops.patchLanes(row, j, dst, w);
      };
    emitGemm(k, gemm);
  });
  k.out = out;
}

} // namespace nn::cpu
