//===- CudaSpatial.cpp - CUDA kernels: convolution, pooling, batch norm ---===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/Support.h"

namespace nn::cuda {

void printSpatialKernel(KernelWriter &k) {
  throw UserError(std::string("error: the cuda backend has no '") +
                  mnemonic(k.node.op) + "' kernel yet");
}

void printReshape(KernelWriter &k) {
  throw UserError(std::string("error: the cuda backend has no '") +
                  mnemonic(k.node.op) + "' kernel yet");
}

} // namespace nn::cuda
