//===- CudaSpatial.cpp - CUDA kernels: convolution, pooling, batch norm ---===//
///
/// \file
/// The complete switch over the spatial ops (ir/Ops.def, NN_SPATIAL), the
/// helpers their printers share (CudaSpatial.h), and reshape.
/// Algorithm: each op's printer is in the file of its group: convolutions
/// (CudaConv.cpp: implicit GEMMs on the prelude's tiles, or direct loops),
/// pooling (CudaPool.cpp: one thread per result, gradients gathered so
/// every element is summed in a fixed order), the channel ops
/// (CudaChannels.cpp: one block per channel, fixed-tree block sums).
/// Reshape is a copy of the elements: row-major order does not change.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaSpatial.h"

#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

namespace nn::cuda {

void printWindowConsts(KernelWriter &k) {
  const Window &w = k.node.win;
  auto lit = [](int64_t v) { return std::to_string(v) + "LL"; };
  k.line("const long long KH = " + lit(w.kernel[0]) +
         ", KW = " + lit(w.kernel[1]) + ", SH = " + lit(w.stride[0]) +
         ", SW = " + lit(w.stride[1]) + ";");
  k.line("const long long PH = " + lit(w.padding[0]) +
         ", PW = " + lit(w.padding[1]) + ", DH = " + lit(w.dilation[0]) +
         ", DW = " + lit(w.dilation[1]) + ";");
}

void printImageConsts(KernelWriter &k, const std::vector<int64_t> &d,
                      const char *n, const char *c, const char *h,
                      const char *w) {
  NN_ASSERT(d.size() == 4, "an image of rank " + std::to_string(d.size()));
  std::string s;
  const char *names[4] = {n, c, h, w};
  for (size_t i = 0; i < 4; ++i)
    if (names[i] && *names[i])
      s += (s.empty() ? "" : ", ") + std::string(names[i]) + " = " +
           k.dim(d[i]);
  if (!s.empty())
    k.line("const long long " + s + ";");
}

std::string maskedGradAt(KernelWriter &k, size_t dyOp, size_t aOp,
                         const std::string &idx) {
  if (k.node.act == Activation::None)
    return k.at(dyOp, idx);
  NN_ASSERT(k.numInputs() > aOp, std::string(mnemonic(k.node.op)) +
                                     " carries an activation but no operand");
  CudaMath math{k};
  return math.mul(k.at(dyOp, idx), emitActivationGrad(math, k.node.act,
                                                      k.at(aOp, idx),
                                                      k.node.param));
}

void printSpatialKernel(KernelWriter &k) {
  switch (member<SpatialOp>(k.node.op)) {
  case SpatialOp::Conv2d:
    return printConv2d(k);
  case SpatialOp::Conv2dGradInput:
    return printConv2dGradInput(k);
  case SpatialOp::Conv2dGradWeight:
    return printConv2dGradWeight(k);
  case SpatialOp::ChannelSum:
    return printChannelSum(k);
  case SpatialOp::ChannelMean:
    return printChannelMean(k);
  case SpatialOp::ChannelVar:
    return printChannelVar(k);
  case SpatialOp::ChannelAffine:
    return printChannelAffine(k);
  case SpatialOp::BatchNormalize:
    return printBatchNormalize(k);
  case SpatialOp::BatchNormalizeGrad:
    return printBatchNormalizeGrad(k);
  case SpatialOp::MaxPool2d:
    return printMaxPool2d(k);
  case SpatialOp::MaxPool2dGrad:
    return printMaxPool2dGrad(k);
  case SpatialOp::AvgPool2d:
    return printAvgPool2d(k);
  case SpatialOp::AvgPool2dGrad:
    return printAvgPool2dGrad(k);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

void printReshape(KernelWriter &k) {
  const std::vector<int64_t> &out = k.node.type.dims;
  k.line("// the same elements in row-major order: a copy");
  k.gridLoop("i", out, 0, out.size());
  k.line("out[i] = " + k.at(0, "i") + ";");
  k.close();
}

} // namespace nn::cuda
