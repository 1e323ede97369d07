//===- EmitSpatial.cpp - CPU kernels: convolution, pooling, batch norm ----===//

#include "codegen/cpu/Emit.h"

#include "ir/Support.h"

namespace nn::cpu {

void emitSpatialKernel(KernelEmitter &k) {
  throw UserError(std::string("error: the cpu backend has no '") +
                  mnemonic(k.node.op) + "' kernel yet");
}

void emitReshape(KernelEmitter &k) {
  throw UserError(std::string("error: the cpu backend has no '") +
                  mnemonic(k.node.op) + "' kernel yet");
}

} // namespace nn::cpu
