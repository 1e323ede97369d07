//===- CudaConv.cpp - conv2d and its gradients in CUDA C++ ----------------===//
///
/// \file
/// The kernels of conv2d, conv2d_grad_input and conv2d_grad_weight
/// (ir/Ops.def), in two forms.
///
/// Algorithm (implicit GEMM, groups = 1, the default): each op is one
/// product of the prelude's tiled GEMMs (printGemm: 64 x 64 or 128 x 128
/// tiles, split-K, the TF32 variant), whose loaders form the im2col matrix
/// while they load tiles, so it is never stored:
///   conv2d:      y[o, (n,i,j)] = sum over (c,p,q) of w[o, (c,p,q)] *
///                x[n, c, i*SH-PH+p*DH, j*SW-PW+q*DW] (0 outside x); the
///                epilogue adds the bias and applies the activation
///                (and the folded batch norm's scale and shift, before or
///                after it: ir/ConvAffine.h);
///   grad input:  dx[c, (n,h,w)] = sum over (o,p,q) of w[o,c,p,q] *
///                dy'[n, o, (h+PH-p*DH)/SH, (w+PW-q*DW)/SW] where those
///                divide exactly and fall inside dy (else 0);
///   grad weight: dw[o, (c,p,q)] = sum over (n,i,j) of dy'[n,o,i,j] *
///                x[n, c, i*SH-PH+p*DH, j*SW-PW+q*DW];
/// dy' = dy * act'(a) when the node carries an activation, computed as
/// the tile is loaded. Each result sums its terms in K order, in float
/// with fused multiply-adds (as every GEMM of the backend).
///
/// Algorithm (direct, groups > 1 or CudaPrintOptions::directConv): one
/// thread per result of conv2d and conv2d_grad_input, summing its terms in
/// double in the definition's order (c, then p, then q; for the data
/// gradient o, then p, then q); one block per weight of conv2d_grad_weight,
/// whose threads stride over (n, i, j) and add their double sums with
/// nn_block_sum (a fixed tree): the same bits on every run.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaSpatial.h"

#include "ir/ConvAffine.h"
#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

namespace nn::cuda {

using Dims = std::vector<int64_t>;

namespace {

/// The op runs as an implicit GEMM (else as direct loops).
bool asGemm(const KernelWriter &k) {
  return k.node.win.groups == 1 && !k.opts.directConv;
}

/// Prints `const long long G = .., Cg = C / G, Og = O / G;`.
void printGroups(KernelWriter &k) {
  k.line("const long long G = " + std::to_string(k.node.win.groups) +
         "LL, Cg = C / G, Og = O / G;");
}

/// The flat index of x[n, c, h, w] (constants C, H, W).
std::string xIndex(const std::string &n, const std::string &c,
                   const std::string &h, const std::string &w) {
  return "((" + n + " * C + " + c + ") * H + " + h + ") * W + " + w;
}

/// The flat index of dy[n, o, i, j] (constants O, Ho, Wo).
std::string yIndex(const std::string &n, const std::string &o,
                   const std::string &i, const std::string &j) {
  return "((" + n + " * O + " + o + ") * Ho + " + i + ") * Wo + " + j;
}

/// The constants of x [NB,C,H,W], w [O,C/G,KH,KW], y [NB,O,Ho,Wo] (NB
/// only for the direct weight gradient, the one kernel that reads it).
void printConvConsts(KernelWriter &k, const Dims &x, const Dims &y) {
  bool nb = k.node.op == OpKind::Conv2dGradWeight && !asGemm(k);
  printImageConsts(k, x, nb ? "NB" : "", "C", "H", "W");
  printImageConsts(k, y, "", "O", "Ho", "Wo");
  printWindowConsts(k);
}

/// Prints `const long long h = .., w = ..;` and `const bool in = ..;`: the
/// input pixel of output pixel (i, j) under kernel tap (p, q).
void printTap(KernelWriter &k, const std::string &i, const std::string &j,
              const std::string &p, const std::string &q) {
  k.line("const long long h = " + i + " * SH - PH + " + p +
         " * DH, w = " + j + " * SW - PW + " + q + " * DW;");
  k.line("const bool in = h >= 0 && h < H && w >= 0 && w < W;");
}

/// Prints `const long long oi = .., oj = ..;` and `const bool hit = ..;`:
/// the output pixel whose kernel tap (p, q) reads input pixel (h, w), if
/// any (the transposed convolution's gather).
void printInverseTap(KernelWriter &k, const std::string &h,
                     const std::string &w, const std::string &p,
                     const std::string &q) {
  k.line("const long long th = " + h + " + PH - " + p + " * DH, tw = " + w +
         " + PW - " + q + " * DW;");
  k.line("const long long oi = th / SH, oj = tw / SW;");
  k.line("const bool hit = th >= 0 && tw >= 0 && th % SH == 0 && "
         "tw % SW == 0 && oi < Ho && oj < Wo;");
}

/// act(acc + b[o]) stored to out[idx], with the folded batch norm's
/// s[o], t[o] (ir/ConvAffine.h) applied before or after act; `acc` a
/// float or double expression.
void printConvStore(KernelWriter &k, const std::string &acc,
                    const std::string &o, const std::string &idx,
                    bool inDouble) {
  CudaMath math{k};
  const ConvOperands ops = convOperands(k.node);
  const bool after = affineAfterAct(k.node);
  std::string z;
  if (ops.bias >= 0)
    z = inDouble ? math.let("(float)(" + acc + " + (double)" +
                            k.at(static_cast<size_t>(ops.bias), o) + ")")
                 : math.add(acc, k.at(static_cast<size_t>(ops.bias), o));
  else
    z = inDouble ? math.let("(float)" + acc) : acc;
  auto affine = [&](const std::string &v) {
    return math.add(math.mul(v, k.at(static_cast<size_t>(ops.scale), o)),
                    k.at(static_cast<size_t>(ops.shift), o));
  };
  if (ops.hasAffine() && !after)
    z = affine(z);
  z = emitActivation(math, k.node.act, z, k.node.param);
  if (ops.hasAffine() && after)
    z = affine(z);
  k.line("out[" + idx + "] = " + z + ";");
}

void printConv2dGemm(KernelWriter &k) {
  const Dims &x = k.inType(0).dims, &y = k.node.type.dims;
  GemmSpec g;
  g.mDims = {y[1]};
  g.nDims = {y[0], y[2], y[3]};
  g.kDims = {x[1], k.node.win.kernel[0], k.node.win.kernel[1]};
  g.a = [&] { return k.at(1, "i * K + p"); };
  g.b = [&] {
    k.line("const long long c = p / (KH * KW), kp = p / KW % KH, "
           "kq = p % KW;");
    k.line("const long long n = j / (Ho * Wo), oi = j / Wo % Ho, "
           "oj = j % Wo;");
    printTap(k, "oi", "oj", "kp", "kq");
    return "in ? " + k.at(0, xIndex("n", "c", "h", "w")) + " : 0.0f";
  };
  g.epilogue = [&] {
    k.line("const long long n = j / (Ho * Wo), s = j % (Ho * Wo);");
    printConvStore(k, "acc", "i", "(n * O + i) * (Ho * Wo) + s",
                   /*inDouble=*/false);
  };
  printGemm(k, g);
}

void printConv2dDirect(KernelWriter &k) {
  const Dims &y = k.node.type.dims;
  printGroups(k);
  k.gridLoop("e", y, 0, 4);
  k.line("const long long n = e / (O * Ho * Wo), o = e / (Ho * Wo) % O, "
         "i = e / Wo % Ho, j = e % Wo;");
  k.line("double acc = 0.0;");
  k.open("for (long long c = 0; c < Cg; ++c)");
  k.open("for (long long p = 0; p < KH; ++p)");
  k.open("for (long long q = 0; q < KW; ++q)");
  printTap(k, "i", "j", "p", "q");
  k.line("if (!in) continue;");
  k.line("acc += (double)" + k.at(1, "((o * Cg + c) * KH + p) * KW + q") +
         " * (double)" + k.at(0, xIndex("n", "o / Og * Cg + c", "h", "w")) +
         ";");
  k.close();
  k.close();
  k.close();
  printConvStore(k, "acc", "o", "e", /*inDouble=*/true);
  k.close();
}

void printGradInputGemm(KernelWriter &k) {
  const Dims &dy = k.inType(0).dims, &x = k.node.type.dims;
  GemmSpec g;
  g.mDims = {x[1]};
  g.nDims = {x[0], x[2], x[3]};
  g.kDims = {dy[1], k.node.win.kernel[0], k.node.win.kernel[1]};
  // w [O, C, KH, KW]: element (c, (o,p,q)).
  g.a = [&] {
    return k.at(1, "(p / (KH * KW) * C + i) * (KH * KW) + p % (KH * KW)");
  };
  g.b = [&] {
    k.line("const long long o = p / (KH * KW), kp = p / KW % KH, "
           "kq = p % KW;");
    k.line("const long long n = j / (H * W), h = j / W % H, w = j % W;");
    printInverseTap(k, "h", "w", "kp", "kq");
    std::string idx = yIndex("n", "o", "oi", "oj");
    // Guarded: an index outside dy is never read.
    k.line("if (!hit) return 0.0f;");
    return maskedGradAt(k, 0, 2, idx);
  };
  g.epilogue = [&] {
    k.line("const long long n = j / (H * W), s = j % (H * W);");
    k.line("out[(n * C + i) * (H * W) + s] = acc;");
  };
  printGemm(k, g);
}

void printGradInputDirect(KernelWriter &k) {
  const Dims &x = k.node.type.dims;
  printGroups(k);
  k.gridLoop("e", x, 0, 4);
  k.line("const long long n = e / (C * H * W), c = e / (H * W) % C, "
         "h = e / W % H, w = e % W;");
  k.line("const long long cg = c % Cg, o0 = c / Cg * Og;");
  k.line("double acc = 0.0;");
  k.open("for (long long o = o0; o < o0 + Og; ++o)");
  k.open("for (long long p = 0; p < KH; ++p)");
  k.open("for (long long q = 0; q < KW; ++q)");
  printInverseTap(k, "h", "w", "p", "q");
  k.line("if (!hit) continue;");
  std::string dy = maskedGradAt(k, 0, 2, yIndex("n", "o", "oi", "oj"));
  k.line("acc += (double)" + k.at(1, "((o * Cg + cg) * KH + p) * KW + q") +
         " * (double)" + dy + ";");
  k.close();
  k.close();
  k.close();
  k.line("out[e] = (float)acc;");
  k.close();
}

void printGradWeightGemm(KernelWriter &k) {
  const Dims &x = k.inType(0).dims, &dy = k.inType(1).dims;
  GemmSpec g;
  g.mDims = {dy[1]};
  g.nDims = {x[1], k.node.win.kernel[0], k.node.win.kernel[1]};
  g.kDims = {dy[0], dy[2], dy[3]};
  // dy' [NB, O, Ho, Wo]: element (o, (n,i,j)).
  g.a = [&] {
    return maskedGradAt(k, 1, 2,
                        "(p / (Ho * Wo) * O + i) * (Ho * Wo) + p % (Ho * Wo)");
  };
  g.b = [&] {
    k.line("const long long c = j / (KH * KW), kp = j / KW % KH, "
           "kq = j % KW;");
    k.line("const long long n = p / (Ho * Wo), oi = p / Wo % Ho, "
           "oj = p % Wo;");
    printTap(k, "oi", "oj", "kp", "kq");
    return "in ? " + k.at(0, xIndex("n", "c", "h", "w")) + " : 0.0f";
  };
  g.bRowMajor = false; // consecutive p: consecutive pixels of x
  g.epilogue = [&] { k.line("out[i * N + j] = acc;"); };
  printGemm(k, g);
}

void printGradWeightDirect(KernelWriter &k) {
  const Dims &dw = k.node.type.dims;
  printGroups(k);
  k.rowLoop("r", dw, 0, 4);
  k.line("const long long o = r / (Cg * KH * KW), c = r / (KH * KW) % Cg + "
         "o / Og * Cg, p = r / KW % KH, q = r % KW;");
  k.line("double acc = 0.0;");
  k.open("for (long long e = threadIdx.x; e < NB * Ho * Wo; e += NN_BLOCK)");
  k.line("const long long n = e / (Ho * Wo), i = e / Wo % Ho, j = e % Wo;");
  printTap(k, "i", "j", "p", "q");
  k.line("if (!in) continue;");
  std::string dy = maskedGradAt(k, 1, 2, yIndex("n", "o", "i", "j"));
  k.line("acc += (double)" + k.at(0, xIndex("n", "c", "h", "w")) +
         " * (double)" + dy + ";");
  k.close();
  k.line("acc = nn_block_sum(acc);");
  k.line("if (threadIdx.x == 0) out[r] = (float)acc;");
  k.close();
}

} // namespace

void printConv2d(KernelWriter &k) {
  std::string form = "act(b + conv2d(x, w))";
  if (convOperands(k.node).hasAffine())
    form = affineAfterAct(k.node) ? form + " * s + t"
                                  : "act((b + conv2d(x, w)) * s + t)";
  k.line("// y = " + form + ", " +
         std::string(asGemm(k) ? "an implicit GEMM" : "direct"));
  printConvConsts(k, k.inType(0).dims, k.node.type.dims);
  asGemm(k) ? printConv2dGemm(k) : printConv2dDirect(k);
}

void printConv2dGradInput(KernelWriter &k) {
  k.line("// dx: the transposed convolution of dy * act'(a) with w, " +
         std::string(asGemm(k) ? "an implicit GEMM" : "direct"));
  printConvConsts(k, k.node.type.dims, k.inType(0).dims);
  asGemm(k) ? printGradInputGemm(k) : printGradInputDirect(k);
}

void printConv2dGradWeight(KernelWriter &k) {
  k.line("// dw: the correlation of x and dy * act'(a), " +
         std::string(asGemm(k) ? "an implicit GEMM" : "direct"));
  printConvConsts(k, k.inType(0).dims, k.inType(1).dims);
  asGemm(k) ? printGradWeightGemm(k) : printGradWeightDirect(k);
}

} // namespace nn::cuda
