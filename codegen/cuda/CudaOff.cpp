//===- CudaOff.cpp - The CUDA backend in a build without NVRTC ------------===//
///
/// \file
/// Built instead of Nvrtc.cpp and CudaDriver.cpp where CMake found no CUDA
/// toolkit: CUDA source can still be printed (`nnc emit --stage=cuda`), but
/// compiling and running it says that the backend is off in this build.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaDriver.h"
#include "codegen/cuda/Nvrtc.h"

#include "ir/Support.h"

namespace nn {

namespace {

const char *const kOff = "this nnc was built without the CUDA toolkit "
                         "(NVRTC not found at configure time)";

} // namespace

bool nvrtcAvailable() { return false; }

std::string nvrtcVersion() { return ""; }

std::vector<std::string> nvrtcArchs() { return {}; }

void checkCudaArch(const std::string &) {
  throw UserError(std::string("nnc: error: ") + kOff);
}

CudaBinary compileCuda(const CudaSource &, const NvrtcOptions &) {
  throw UserError(std::string("nnc: error: cannot compile CUDA: ") + kOff);
}

std::string compileCudaPtx(const CudaSource &, const NvrtcOptions &) {
  throw UserError(std::string("nnc: error: cannot compile CUDA: ") + kOff);
}

std::string cudaUnavailableReason() { return kOff; }

std::string cudaDefaultArch() { return "sm_90"; }

int cudaDeviceCount() { return 0; }

} // namespace nn
