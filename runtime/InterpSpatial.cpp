//===- InterpSpatial.cpp - Naive kernels: convolution, pooling, batch norm ===//
///
/// \file
/// The spatial ops over double, as ir/Ops.def states them: plain nested
/// loops in the order the definitions sum, no shortcuts. The oracle the CPU
/// and CUDA kernels are compared with.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/Support.h"

namespace nn::interp {

Value spatial(SpatialOp op, const Node &n, const Args &in) {
  (void)op;
  (void)in;
  throw UserError(std::string("error: the interpreter has no '") +
                  mnemonic(n.op) + "' yet");
}

} // namespace nn::interp
