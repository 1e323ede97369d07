//===- CudaPool.cpp - Pooling and its gradients in CUDA C++ ---------------===//
///
/// \file
/// The kernels of maxpool2d, avgpool2d and their gradients (ir/Ops.def).
/// Algorithm: one thread per result. The forward ops scan their window in
/// row-major order (padding skipped: it never wins a max, and counts as
/// zeros in an average, whose divisor is always KH * KW). The gradients
/// gather instead of scattering, so no two threads write one element and
/// no atomics are needed: the thread of input pixel (h, w) visits every
/// window that holds it, in row-major order of the windows (i, then j),
/// and adds that window's dy when the pixel is its first maximum (max) or
/// always (average, divided by KH * KW at the end), summing in double.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaSpatial.h"

#include "ir/Support.h"

#include <cmath>

namespace nn::cuda {

using Dims = std::vector<int64_t>;

namespace {

/// Prints the plane sizes of an input image x and output y, both [N,C,..].
void printPoolConsts(KernelWriter &k, const Dims &x, const Dims &y) {
  printImageConsts(k, x, "", "", "H", "W");
  printImageConsts(k, y, "", "", "Ho", "Wo");
  printWindowConsts(k);
}

/// Opens the loops over the taps (p, q) of window (i, j) whose pixel
/// (h, w) lies inside x, row-major; the caller closes two braces.
void openWindow(KernelWriter &k, const std::string &i, const std::string &j) {
  k.open("for (long long p = 0; p < KH; ++p)");
  k.line("const long long h = " + i + " * SH - PH + p * DH;");
  k.line("if (h < 0 || h >= H) continue;");
  k.open("for (long long q = 0; q < KW; ++q)");
  k.line("const long long w = " + j + " * SW - PW + q * DW;");
  k.line("if (w < 0 || w >= W) continue;");
}

/// Opens the loops over the windows (i, j) that hold input pixel (h0, w0),
/// in row-major order: i ascending is the pixel's tap tp in its window
/// descending. The caller closes two braces.
void openWindowsOf(KernelWriter &k) {
  k.open("for (long long tp = KH - 1; tp >= 0; --tp)");
  k.line("const long long th = h0 + PH - tp * DH, i = th / SH;");
  k.line("if (th < 0 || th % SH != 0 || i >= Ho) continue;");
  k.open("for (long long tq = KW - 1; tq >= 0; --tq)");
  k.line("const long long tw = w0 + PW - tq * DW, j = tw / SW;");
  k.line("if (tw < 0 || tw % SW != 0 || j >= Wo) continue;");
}

/// Prints the first maximum of window (i, j) of plane `plane` of operand
/// `xOp` in row-major order: `best` (its value) and `at` (its flat index
/// in the plane, -1 when every tap is padding).
void printWindowMax(KernelWriter &k, size_t xOp, const std::string &plane,
                    const std::string &i, const std::string &j) {
  k.line("float best = " + floatLit(-INFINITY) + ";");
  k.line("long long at = -1;");
  openWindow(k, i, j);
  k.line("const float v = " + k.at(xOp, plane + " * (H * W) + h * W + w") +
         ";");
  // The first maximum wins ties; a NaN wins (the last one), as in the
  // interpreter (runtime/InterpSpatial.cpp) and PyTorch.
  k.line("if (at < 0 || v > best || v != v) { best = v; at = h * W + w; }");
  k.close();
  k.close();
}

/// Opens the loop over the output pixels, one thread each: `e` flat,
/// `plane` (n * C + c), `i`, `j`.
void openOutputs(KernelWriter &k, const Dims &y) {
  k.gridLoop("e", y, 0, 4);
  k.line("const long long plane = e / (Ho * Wo), i = e / Wo % Ho, "
         "j = e % Wo;");
}

/// Opens the loop over the input pixels, one thread each: `e` flat,
/// `plane`, `h0`, `w0`.
void openInputs(KernelWriter &k, const Dims &x) {
  k.gridLoop("e", x, 0, 4);
  k.line("const long long plane = e / (H * W), h0 = e / W % H, w0 = e % W;");
}

} // namespace

void printMaxPool2d(KernelWriter &k) {
  k.line("// the first maximum of each window, padding skipped");
  const Dims &x = k.inType(0).dims, &y = k.node.type.dims;
  printPoolConsts(k, x, y);
  openOutputs(k, y);
  printWindowMax(k, 0, "plane", "i", "j");
  k.line("out[e] = best;");
  k.close();
}

void printMaxPool2dGrad(KernelWriter &k) {
  k.line("// dx: each window's dy routed to its first maximum, gathered");
  const Dims &x = k.inType(1).dims, &y = k.inType(0).dims;
  printPoolConsts(k, x, y);
  openInputs(k, x);
  k.line("double acc = 0.0;");
  openWindowsOf(k);
  printWindowMax(k, 1, "plane", "i", "j");
  k.line("if (at == h0 * W + w0) acc += (double)" +
         k.at(0, "(plane * Ho + i) * Wo + j") + ";");
  k.close();
  k.close();
  k.line("out[e] = (float)acc;");
  k.close();
}

void printAvgPool2d(KernelWriter &k) {
  k.line("// the mean of each window, padding counted as zeros");
  const Dims &x = k.inType(0).dims, &y = k.node.type.dims;
  printPoolConsts(k, x, y);
  openOutputs(k, y);
  k.line("double acc = 0.0;");
  openWindow(k, "i", "j");
  k.line("acc += (double)" + k.at(0, "plane * (H * W) + h * W + w") + ";");
  k.close();
  k.close();
  k.line("out[e] = (float)(acc / (double)(KH * KW));");
  k.close();
}

void printAvgPool2dGrad(KernelWriter &k) {
  k.line("// dx: each window's dy spread evenly over it, gathered");
  const Dims &x = k.node.type.dims, &y = k.inType(0).dims;
  printPoolConsts(k, x, y);
  openInputs(k, x);
  k.line("double acc = 0.0;");
  openWindowsOf(k);
  k.line("acc += (double)" + k.at(0, "(plane * Ho + i) * Wo + j") + ";");
  k.close();
  k.close();
  k.line("out[e] = (float)(acc / (double)(KH * KW));");
  k.close();
}

} // namespace nn::cuda
