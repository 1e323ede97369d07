//===- InterpRandom.cpp - The interpreter's random ops --------------------===//
///
/// \file
/// Dropout in double: every element's keep bit from ir/Philox.h, keyed as
/// that header says (the element's index in the global batch: the first
/// row operand times the row's width, plus its index), times the float
/// scale 1 / (1 - p). The CPU and CUDA kernels draw the same words from
/// the same template, so their masks are this one, bit for bit.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"

#include "ir/Philox.h"
#include "ir/Support.h"

namespace nn::interp {

double dropoutFactor(const Node &n, double step, double firstRow, int64_t i) {
  int64_t global =
      philox::globalIndex(firstRow, philox::dropoutRowWidth(n.type), i);
  bool keep =
      philox::dropoutKeep(n.seed, philox::stepWord(step),
                          static_cast<uint32_t>(n.stream), global, n.param);
  return keep ? static_cast<double>(philox::dropoutScale(n.param)) : 0.0;
}

Value random(RandomOp op, const Node &n, const Args &args) {
  switch (op) {
  case RandomOp::Dropout: {
    const Value &x = *args[0];
    NN_ASSERT(args[1]->numel() == 1 && args[2]->numel() == 1,
              "dropout's step and first row must be scalars");
    double step = args[1]->data[0], first = args[2]->data[0];
    Value y = x;
    for (int64_t i = 0; i < y.numel(); ++i)
      y.data[static_cast<size_t>(i)] *= dropoutFactor(n, step, first, i);
    return y;
  }
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn::interp
