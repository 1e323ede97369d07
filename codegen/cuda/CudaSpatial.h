//===- CudaSpatial.h - Pieces of the spatial kernels (codegen/cuda) -*- C++ -*-===//
///
/// \file
/// Shared by the printers of the spatial ops (ir/Ops.def, NN_SPATIAL):
/// the window and image sizes printed as constants, the masked upstream
/// gradient dy * act'(a), and the printers of each group of ops
/// (CudaConv.cpp, CudaPool.cpp, CudaChannels.cpp).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaEmit.h"

namespace nn::cuda {

/// Prints `const long long KH = .., KW, SH, SW, PH, PW, DH, DW;`: the
/// node's window (Node::win).
void printWindowConsts(KernelWriter &k);
/// Prints `const long long <n> = .., <c> = .., <h> = .., <w> = ..;` for an
/// image of dims `d` [N,C,H,W] (the batch as `batch`); empty names are
/// left out.
void printImageConsts(KernelWriter &k, const std::vector<int64_t> &d,
                      const char *n, const char *c, const char *h,
                      const char *w);
/// Element `idx` of operand `dyOp`, times act'(operand `aOp`) at the same
/// index when the node carries an activation (Node::act); the operand must
/// then be there.
std::string maskedGradAt(KernelWriter &k, size_t dyOp, size_t aOp,
                         const std::string &idx);

/// conv2d, conv2d_grad_input, conv2d_grad_weight (CudaConv.cpp).
void printConv2d(KernelWriter &k);
void printConv2dGradInput(KernelWriter &k);
void printConv2dGradWeight(KernelWriter &k);
/// maxpool2d, avgpool2d and their gradients (CudaPool.cpp).
void printMaxPool2d(KernelWriter &k);
void printMaxPool2dGrad(KernelWriter &k);
void printAvgPool2d(KernelWriter &k);
void printAvgPool2dGrad(KernelWriter &k);
/// The per-channel ops (CudaChannels.cpp).
void printChannelSum(KernelWriter &k);
void printChannelMean(KernelWriter &k);
void printChannelVar(KernelWriter &k);
void printChannelAffine(KernelWriter &k);
void printBatchNormalize(KernelWriter &k);
void printBatchNormalizeGrad(KernelWriter &k);

} // namespace nn::cuda
