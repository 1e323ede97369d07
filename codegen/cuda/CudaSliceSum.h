//===- CudaSliceSum.h - The data-parallel gradient sum on a GPU -*- C++ -*-===//
///
/// \file
/// The kernel that adds the ranks' slices of the gradients after NCCL's
/// all-to-all (runtime/DeviceReduce.h), printed as CUDA C++ like the step's
/// kernels and compiled, loaded and launched through the same helpers
/// (Nvrtc.h, CudaDriver.h).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaPrinter.h"

namespace nn {

/// One kernel, (float *out, const float *slices, const float *weights, long
/// long width), an Elements launch over `width` (passed as the batch):
/// out[i] = sum over r < ranks of w[r] * slices[r * width + i], w the
/// `ranks` doubles at `weights`, added in rank order in double and rounded
/// once to float: the bits of sumInRankOrder (runtime/Sharding.h).
CudaSource printSliceSum(int ranks);

} // namespace nn
