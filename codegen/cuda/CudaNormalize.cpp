//===- CudaNormalize.cpp - layer_norm's rows in CUDA C++ ------------------===//
///
/// \file
/// The CUDA kernels of normalize and normalize_grad (ir/Ops.def): a Rows
/// launch, one block per row. The block's threads stride over the row,
/// summing in double every moment it needs (x and x^2; for the gradient
/// also dy and dy * x), add their sums with nn_block_sum (a fixed tree: the
/// same result on every run), then compute each element in double and store
/// it as float. The variance is E[x^2] - mean^2 in double, clamped at 0, as
/// the CPU kernel computes it.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/Support.h"

#include <charconv>
#include <cmath>

namespace nn::cuda {

std::string doubleLit(double v) {
  if (!std::isfinite(v))
    return "(double)" + floatLit(v);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  NN_ASSERT(r.ec == std::errc(), "to_chars failed");
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

namespace {

/// Opens the loop over rows `r` (base `base`, length `c`) and prints the
/// block's double sums `names[i]` of terms(i) over the row's elements
/// (`j`), then `mean` and `rstd` = 1 / sqrt(var + eps) from the first two
/// (the sums of x and x^2). The caller closes the loop.
void printRowMoments(KernelWriter &k, const std::vector<std::string> &names,
                     const std::vector<std::string> &terms) {
  const std::vector<int64_t> &d = k.node.type.dims;
  NN_ASSERT(!d.empty(), "normalize of a scalar");
  k.line("const long long c = " + k.dim(d.back()) + ";");
  k.rowLoop("r", d, 0, d.size() - 1);
  k.line("const long long base = r * c;");
  for (const std::string &n : names)
    k.line("double " + n + " = 0.0;");
  k.open("for (long long j = threadIdx.x; j < c; j += NN_BLOCK)");
  for (size_t i = 0; i < names.size(); ++i)
    k.line(names[i] + " += " + terms[i] + ";");
  k.close();
  for (const std::string &n : names)
    k.line(n + " = nn_block_sum(" + n + ");");
  k.line("const double mean = " + names[0] + " / (double)c;");
  k.line("double var = " + names[1] + " / (double)c - mean * mean;");
  k.line("var = var > 0.0 ? var : 0.0;");
  k.line("const double rstd = 1.0 / sqrt(var + " + doubleLit(k.node.param) +
         ");");
}

} // namespace

void printNormalize(KernelWriter &k) {
  k.line("// (x - mean) / sqrt(var + eps) over each row of x");
  std::string x = "(double)" + k.at(0, "base + j");
  printRowMoments(k, {"sx", "sxx"}, {x, x + " * " + x});
  k.open("for (long long j = threadIdx.x; j < c; j += NN_BLOCK)");
  k.line("out[base + j] = (float)((" + x + " - mean) * rstd);");
  k.close();
  k.close();
}

void printNormalizeGrad(KernelWriter &k) {
  k.line("// (dy - mean(dy) - xh * mean(dy * xh)) / sqrt(var + eps), "
         "xh = normalize(x)");
  std::string dy = "(double)" + k.at(0, "base + j");
  std::string x = "(double)" + k.at(1, "base + j");
  printRowMoments(k, {"sx", "sxx", "sdy", "sdyx"},
                  {x, x + " * " + x, dy, dy + " * " + x});
  k.line("const double mdy = sdy / (double)c;");
  k.line("const double mdyxh = (sdyx / (double)c - mean * mdy) * rstd;");
  k.open("for (long long j = threadIdx.x; j < c; j += NN_BLOCK)");
  k.line("const double xh = (" + x + " - mean) * rstd;");
  k.line("out[base + j] = (float)((" + dy + " - mdy - xh * mdyxh) * rstd);");
  k.close();
  k.close();
}

} // namespace nn::cuda
