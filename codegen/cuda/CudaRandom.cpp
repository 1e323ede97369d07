//===- CudaRandom.cpp - The random ops' kernels in CUDA C++ ---------------===//
///
/// \file
/// Dropout as a grid-stride loop over the elements: per element, its
/// index in the global batch (the first row operand times the row's
/// width, plus its own), the Philox 4x32-10 block of its group of four
/// printed from the template of ir/Philox.h (one `const unsigned`
/// statement per product and xor, the round keys as literals), its word
/// compared with the integer threshold of p, x multiplied by the float
/// scale or 0. The interpreter and the CPU
/// backend run the same template, so the masks are the same bits.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/Philox.h"
#include "ir/Support.h"

namespace nn::cuda {

namespace {

/// The integer emitter of ir/Philox.h: each operation one statement.
struct CudaWords {
  using Value = std::string;
  KernelWriter &k;
  Value let(const std::string &expr) {
    std::string name = k.fresh("r");
    k.line("const unsigned " + name + " = " + expr + ";");
    return name;
  }
  Value constant(uint32_t v) { return std::to_string(v) + "u"; }
  Value mulHi(Value a, Value b) {
    return let("(unsigned)(((unsigned long long)" + a + " * " + b + ") >> 32)");
  }
  Value mulLo(Value a, Value b) { return let(a + " * " + b); }
  Value bitXor(Value a, Value b) { return let(a + " ^ " + b); }
};

/// out[i] = x[i] * (keep ? scale : 0), keep drawn per element.
void printDropout(KernelWriter &k) {
  const Node &n = k.node;
  CudaWords words{k};
  const std::vector<int64_t> &dims = n.type.dims;
  // The step word (philox::stepWord): 0 unless positive.
  k.line("const float s = " + k.at(1, "0") + ";");
  k.line("const unsigned step = s > 0.0f ? (unsigned)s : 0u;");
  // The global batch index of element 0 (philox::globalIndex), when the
  // tensor has a batch dimension: the first row (philox::firstRowWord)
  // times the row's width.
  int64_t width = philox::dropoutRowWidth(n.type);
  if (width != 0) {
    k.line("const float f = " + k.at(2, "0") + ";");
    k.line("const unsigned long long first = (f > 0.0f ? (unsigned long "
           "long)f : 0ull) * " +
           std::to_string(width) + "ull;");
  }
  k.gridLoop("i", dims, 0, dims.size());
  k.line(std::string("const unsigned long long e = ") +
         (width != 0 ? "first + " : "") + "(unsigned long long)i;");
  k.line("const unsigned long long g = e >> 2;");
  std::array<std::string, 4> w =
      philox::block(words,
                    {"(unsigned)g", "(unsigned)(g >> 32)", "step",
                     words.constant(static_cast<uint32_t>(n.stream))},
                    philox::keyLo(n.seed), philox::keyHi(n.seed));
  k.line("const unsigned lane = (unsigned)(e & 3);");
  k.line("const unsigned w = lane == 0u ? " + w[0] + " : lane == 1u ? " + w[1] +
         " : lane == 2u ? " + w[2] + " : " + w[3] + ";");
  k.line("out[i] = " + k.at(0, "i") +
         " * ((w >> 8) >= " + words.constant(philox::keepThreshold(n.param)) +
         " ? " + floatLit(philox::dropoutScale(n.param)) + " : 0.0f);");
  k.close();
}

} // namespace

void printRandomKernel(KernelWriter &k) {
  switch (member<RandomOp>(k.node.op)) {
  case RandomOp::Dropout:
    return printDropout(k);
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn::cuda
