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
/// output channels per group computes its transpose (few columns, EmitConv
/// .cpp), as one task.
inline bool weightGradTransposed(int64_t cols, int64_t og) {
  return cols < 16 && og > cols && cols * og <= 65536;
}

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
