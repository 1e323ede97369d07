//===- CudaChannels.cpp - Batch norm's per-channel ops in CUDA C++ --------===//
///
/// \file
/// The kernels of channel_sum, channel_mean, channel_var, channel_affine,
/// batch_normalize and batch_normalize_grad (ir/Ops.def) on x [N,C,...].
/// Algorithm: the reductions are a Rows launch with one block per channel:
/// the block's threads stride over the channel's N * inner elements
/// (element e at (e / inner * C + c) * inner + e % inner), each summing in
/// double, and nn_block_sum adds the threads' sums in a fixed tree, so every
/// run gives the same bits. Moments are two-pass (the mean, then the sum of
/// squared deviations from it), as the interpreter computes them, so a
/// channel far from zero loses no digits. batch_normalize then writes each
/// element from its channel's mean and variance; batch_normalize_grad sums
/// dy and dy * (x - mean) in a third pass and writes (dy - mean(dy) - xh *
/// mean(dy * xh)) / sqrt(var + eps). channel_affine is elementwise.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaSpatial.h"

#include "ir/Support.h"


namespace nn::cuda {

using Dims = std::vector<int64_t>;

namespace {

/// Prints `C`, `inner`, `cnt` (elements per channel) of operand 0's dims
/// and opens the loop over the channels `c`, one block each.
void openChannels(KernelWriter &k) {
  const Dims &d = k.inType(0).dims;
  NN_ASSERT(d.size() >= 2, std::string(mnemonic(k.node.op)) + " of rank " +
                               std::to_string(d.size()));
  k.line("const long long C = " + k.dim(d[1]) +
         ", inner = " + k.product(d, 2, d.size()) +
         ", cnt = " + k.dim(d[0]) + " * inner;");
  k.rowLoop("c", d, 1, 2);
}

/// The flat index of element `e` of channel c.
std::string channelIndex(const std::string &e) {
  return "(" + e + " / inner * C + c) * inner + " + e + " % inner";
}

/// Prints `double <name> = ...;`: the block's sum over the channel's
/// elements of term() (which prints its statements; variable `x` is the
/// element's flat index).
void printChannelSumOf(KernelWriter &k, const std::string &name,
                       const std::function<std::string()> &term) {
  k.line("double " + name + " = 0.0;");
  k.open("for (long long e = threadIdx.x; e < cnt; e += NN_BLOCK)");
  k.line("const long long x = " + channelIndex("e") + ";");
  k.line(name + " += " + term() + ";");
  k.close();
  k.line(name + " = nn_block_sum(" + name + ");");
}

/// Prints `mean` and `ssd` (the sum of squared deviations) of operand `op`
/// over the channel, both double.
void printMoments(KernelWriter &k, size_t op) {
  printChannelSumOf(k, "sx", [&] { return "(double)" + k.at(op, "x"); });
  k.line("const double mean = sx / (double)cnt;");
  printChannelSumOf(k, "ssd", [&] {
    k.line("const double dx = (double)" + k.at(op, "x") + " - mean;");
    return std::string("dx * dx");
  });
}

} // namespace

void printChannelSum(KernelWriter &k) {
  k.line("// the sum of dy * act'(a) over every axis but 1");
  openChannels(k);
  printChannelSumOf(k, "acc",
                    [&] { return "(double)" + maskedGradAt(k, 0, 1, "x"); });
  k.line("if (threadIdx.x == 0) out[c] = (float)acc;");
  k.close();
}

void printChannelMean(KernelWriter &k) {
  k.line("// the mean over every axis but 1");
  openChannels(k);
  printChannelSumOf(k, "acc", [&] { return "(double)" + k.at(0, "x"); });
  k.line("if (threadIdx.x == 0) out[c] = (float)(acc / (double)cnt);");
  k.close();
}

void printChannelVar(KernelWriter &k) {
  k.line("// the unbiased variance over every axis but 1");
  openChannels(k);
  printMoments(k, 0);
  k.line("if (threadIdx.x == 0) out[c] = (float)(ssd / (double)(cnt - 1));");
  k.close();
}

void printChannelAffine(KernelWriter &k) {
  k.line("// x * s[c] + t[c]");
  const Dims &d = k.node.type.dims;
  k.line("const long long C = " + k.dim(d[1]) +
         ", inner = " + k.product(d, 2, d.size()) + ";");
  k.gridLoop("i", d, 0, d.size());
  k.line("const long long c = i / inner % C;");
  std::string v = "(double)" + k.at(0, "i") + " * (double)" + k.at(1, "c");
  if (k.numInputs() > 2)
    v += " + (double)" + k.at(2, "c");
  k.line("out[i] = (float)(" + v + ");");
  k.close();
}

void printBatchNormalize(KernelWriter &k) {
  k.line("// (x - mean) / sqrt(var + eps) over every axis but 1, var biased");
  openChannels(k);
  printMoments(k, 0);
  k.line("const double rstd = 1.0 / sqrt(ssd / (double)cnt + " +
         doubleLit(k.node.param) + ");");
  k.open("for (long long e = threadIdx.x; e < cnt; e += NN_BLOCK)");
  k.line("const long long x = " + channelIndex("e") + ";");
  k.line("out[x] = (float)(((double)" + k.at(0, "x") + " - mean) * rstd);");
  k.close();
  k.close();
}

void printBatchNormalizeGrad(KernelWriter &k) {
  k.line("// (dy - mean(dy) - xh * mean(dy * xh)) / sqrt(var + eps), "
         "xh = batch_normalize(x)");
  openChannels(k);
  printMoments(k, 1);
  printChannelSumOf(k, "sdy", [&] { return "(double)" + k.at(0, "x"); });
  printChannelSumOf(k, "sdyx", [&] {
    return "(double)" + k.at(0, "x") + " * ((double)" + k.at(1, "x") +
           " - mean)";
  });
  // After the sums: fewer values live across sqrt's slow path.
  k.line("const double rstd = 1.0 / sqrt(ssd / (double)cnt + " +
         doubleLit(k.node.param) + ");");
  k.line("const double mdy = sdy / (double)cnt;");
  k.line("const double mdyxh = sdyx / (double)cnt * rstd;");
  k.open("for (long long e = threadIdx.x; e < cnt; e += NN_BLOCK)");
  k.line("const long long x = " + channelIndex("e") + ";");
  k.line("const double xh = ((double)" + k.at(1, "x") + " - mean) * rstd;");
  k.line("out[x] = (float)(((double)" + k.at(0, "x") +
         " - mdy - xh * mdyxh) * rstd);");
  k.close();
  k.close();
}

} // namespace nn::cuda
