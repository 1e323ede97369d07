//===- EmitSpatial.h - The CPU kernels of the spatial ops ------*- C++ -*-===//
///
/// \file
/// The kernels of ir/Ops.def's spatial family, one file per kind:
/// EmitConv.cpp (conv2d and its gradients, implicit GEMMs on EmitGemm.cpp's
/// micro-kernels), EmitPool.cpp (max and average pooling and their
/// gradients), EmitChannels.cpp (the per-channel sums of batch norm, its
/// scale and shift, its normalization and that's gradient); EmitSpatial.cpp
/// dispatches and says how each is split between threads. Private to
/// codegen/cpu.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/Emit.h"

namespace nn::cpu {

/// The sizes of an image [N,C,H,W] and of a window over it: N may be the
/// batch (a Value), the rest are constants.
struct ImageGeom {
  int64_t c = 0, h = 0, w = 0;  ///< the input's channels, height, width
  int64_t o = 0, ho = 0, wo = 0; ///< the output's channels, height, width
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t groups = 1;
  /// From the input dims `x` [N,C,H,W], the output dims `y` [N,O,Ho,Wo]
  /// and the node's window.
  ImageGeom(const std::vector<int64_t> &x, const std::vector<int64_t> &y,
            const Window &win);
  int64_t cg() const { return c / groups; }
  int64_t og() const { return o / groups; }
};

/// Whether conv2d_grad_weight with `cols` = Cg*kh*kw columns and `og`
/// output channels per group is computed by output channel (too few
/// columns for a GEMM tile: EmitConvGradWeight.cpp), split by channels.
inline bool weightGradByChannel(int64_t cols, int64_t og) {
  return cols < 16 && og > cols;
}

/// i32 vectors of `n` lanes: a whole panel row's indices at once.
struct Lanes {
  KernelEmitter &k;
  unsigned n;
  llvm::IRBuilder<> &b() { return k.b; }
  llvm::Type *ty() { return llvm::FixedVectorType::get(k.b.getInt32Ty(), n); }
  /// A scalar i64 (or constant) in every lane.
  llvm::Value *splat(llvm::Value *v) {
    return k.b.CreateVectorSplat(n, k.b.CreateTrunc(v, k.b.getInt32Ty()));
  }
  llvm::Value *c(int64_t v) {
    return llvm::ConstantInt::get(ty(), static_cast<uint64_t>(v),
                                  /*isSigned=*/true);
  }
  /// first, first + 1, ..., first + n - 1.
  llvm::Value *iota(llvm::Value *first) {
    std::vector<llvm::Constant *> steps;
    for (unsigned i = 0; i < n; ++i)
      steps.push_back(k.b.getInt32(i));
    return k.b.CreateAdd(splat(first), llvm::ConstantVector::get(steps));
  }
  /// The floats at base[first + lane] where `mask`, else 0 (masked-off
  /// lanes may lie outside the buffer: never read).
  llvm::Value *load(llvm::Value *base, llvm::Value *first, llvm::Value *mask) {
    auto *vt = llvm::FixedVectorType::get(k.f32(), n);
    return k.b.CreateMaskedLoad(vt, k.b.CreateGEP(k.f32(), base, first),
                                llvm::Align(4), mask,
                                llvm::ConstantAggregateZero::get(vt));
  }
  /// The floats at base[idx] where `mask`, else 0.
  llvm::Value *gather(llvm::Value *base, llvm::Value *idx, llvm::Value *mask) {
    llvm::IRBuilder<> &bb = k.b;
    llvm::Value *ptrs =
        bb.CreateInBoundsGEP(k.f32(), base, bb.CreateSelect(mask, idx, c(0)));
    auto *vt = llvm::FixedVectorType::get(k.f32(), n);
    return bb.CreateMaskedGather(vt, ptrs, llvm::Align(4), mask,
                                 llvm::ConstantAggregateZero::get(vt));
  }
};

/// Element (row, pix) of image `img`'s patch matrix for group `grp`: row
/// (c, p, q) of Cg*kh*kw, pixel (i, j) of Ho*Wo; x[n, grp*Cg + c, i*sh -
/// ph + p*dh, j*sw - pw + q*dw], zero outside. x is operand `xOp`.
llvm::Value *patchAt(KernelEmitter &k, const ImageGeom &G, size_t xOp,
                     llvm::Value *img, llvm::Value *grp, llvm::Value *row,
                     llvm::Value *pix);
/// Operand `dyOp` at `idx`, times act'(a) (operand `aOp`) when the node
/// has that operand.
llvm::Value *gradAt(KernelEmitter &k, size_t dyOp, size_t aOp,
                    llvm::Value *idx);
/// The most floats of one image's dy * act'(a) that a convolution gradient
/// forms on its stack (256 KiB).
constexpr int64_t kMaxImageGrad = 65536;
/// dz[e] = dy[first + e] * act'(a[first + e]) for e < count (dy operand
/// `dyOp`, a operand 2, both buffers), 16 lanes at a time: each element
/// once, the same float product as gradAt's.
void formMaskedGrad(KernelEmitter &k, size_t dyOp, llvm::Value *first,
                    int64_t count, llvm::Value *dz);

void emitConv2d(KernelEmitter &k);
void emitConv2dGradInput(KernelEmitter &k);
void emitConv2dGradWeight(KernelEmitter &k);
void emitMaxPool2d(KernelEmitter &k);
void emitMaxPool2dGrad(KernelEmitter &k);
void emitAvgPool2d(KernelEmitter &k);
void emitAvgPool2dGrad(KernelEmitter &k);
/// channel_sum, channel_mean, channel_var.
void emitChannelReduce(KernelEmitter &k);
void emitChannelAffine(KernelEmitter &k);
void emitBatchNormalize(KernelEmitter &k);
void emitBatchNormalizeGrad(KernelEmitter &k);

} // namespace nn::cpu
