//===- EmitNormalize.cpp - layer_norm's rows: normalize, normalize_grad ---===//
///
/// \file
/// The CPU kernels of normalize and normalize_grad (ir/Ops.def). Each row is
/// read twice: one pass sums, in double, every moment the row needs (x and
/// x^2; for the gradient also dy and dy * x) in eight double lanes (element
/// j into lane j % 8, the lanes then added in order, then the tail), and
/// one pass computes each element in double (a float mean would lose the
/// digits of x - mean when the mean is large) and stores it as float. The
/// variance is E[x^2] - mean^2 in double, clamped at 0; the interpreter's
/// two-pass form differs from it only in double rounding. Rows are independent:
/// the kernel is split between threads by rows, with the same bits for any
/// thread count.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/Support.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

/// The terms a row sums, given a loader of operand i at the current
/// element(s) (fpext'ed to double: a <8 x double> or a double).
using Terms =
    std::function<std::vector<Val>(const std::function<Val(size_t)> &)>;

/// The double sums over elements [base, base + c) of each term of `terms`.
std::vector<Val> rowSums(KernelEmitter &k, Val base, Val c, size_t count,
                         const Terms &terms) {
  IRBuilder<> &b = k.b;
  auto *fv = FixedVectorType::get(k.f32(), 8);
  auto *dv = FixedVectorType::get(k.f64(), 8);
  bool vector = true;
  for (const Operand &op : k.in)
    vector &= !op.constant;
  std::vector<Val> lanes(count);
  for (Val &l : lanes) {
    l = k.slot(dv, "lanes");
    b.CreateStore(ConstantAggregateZero::get(dv), l);
  }
  Val chunks = vector ? b.CreateUDiv(c, k.i64(8)) : k.i64(0);
  k.loop(chunks, "c", [&](Val ch) {
    Val at = b.CreateAdd(base, b.CreateMul(ch, k.i64(8)));
    std::vector<Val> t = terms([&](size_t i) {
      Val p = b.CreateInBoundsGEP(k.f32(), k.in[i].ptr, at);
      return b.CreateFPExt(b.CreateAlignedLoad(fv, p, Align(4)), dv);
    });
    for (size_t s = 0; s < count; ++s)
      b.CreateStore(b.CreateFAdd(b.CreateLoad(dv, lanes[s]), t[s]), lanes[s]);
  });
  std::vector<Val> accs(count);
  for (size_t s = 0; s < count; ++s) {
    accs[s] = k.accumulator("sum");
    Val v = b.CreateLoad(dv, lanes[s]);
    for (unsigned l = 0; l < 8; ++l)
      k.accumulate(accs[s], b.CreateExtractElement(v, l));
  }
  Val done = b.CreateMul(chunks, k.i64(8));
  k.loop(b.CreateSub(c, done), "t", [&](Val t) {
    Val at = b.CreateAdd(base, b.CreateAdd(done, t));
    std::vector<Val> v =
        terms([&](size_t i) { return b.CreateFPExt(k.load(i, at), k.f64()); });
    for (size_t s = 0; s < count; ++s)
      k.accumulate(accs[s], v[s]);
  });
  std::vector<Val> sums(count);
  for (size_t s = 0; s < count; ++s)
    sums[s] = b.CreateLoad(k.f64(), accs[s]);
  return sums;
}

/// The row's mean and 1 / sqrt(var + eps), in double, from the sums of x
/// and x^2 over its `n` (a double) elements.
std::pair<Val, Val> meanAndRstd(KernelEmitter &k, Val sumX, Val sumXX, Val n) {
  IRBuilder<> &b = k.b;
  Val mean = b.CreateFDiv(sumX, n);
  Val var = b.CreateFSub(b.CreateFDiv(sumXX, n), b.CreateFMul(mean, mean));
  Val zero = ConstantFP::get(k.f64(), 0.0);
  var = b.CreateSelect(b.CreateFCmpOGT(var, zero), var, zero);
  Val eps = ConstantFP::get(k.f64(), k.node.param);
  Val s = b.CreateUnaryIntrinsic(Intrinsic::sqrt, b.CreateFAdd(var, eps));
  return {mean, b.CreateFDiv(ConstantFP::get(k.f64(), 1.0), s)};
}

/// Element `at` of operand `i`, fpext'ed to double.
Val loadDouble(KernelEmitter &k, size_t i, Val at) {
  return k.b.CreateFPExt(k.load(i, at), k.f64());
}

/// The rows of the node's shape (all but the last axis) and their length.
std::pair<Val, Val> rowsAndLength(KernelEmitter &k) {
  const std::vector<int64_t> &d = k.node.type.dims;
  NN_ASSERT(!d.empty(), "normalize of a scalar");
  return {k.product(d, 0, d.size() - 1), k.dim(d.back())};
}

} // namespace

void emitNormalize(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  auto [rows, c] = rowsAndLength(k);
  Val n = b.CreateSIToFP(c, k.f64());
  k.splitLoop(rows, "r", [&](Val r) {
    Val base = b.CreateMul(r, c);
    std::vector<Val> s = rowSums(k, base, c, 2, [&](const auto &load) {
      Val x = load(0);
      return std::vector<Val>{x, b.CreateFMul(x, x)};
    });
    auto [mean, rstd] = meanAndRstd(k, s[0], s[1], n);
    k.loop(c, "j", [&](Val j) {
      Val at = b.CreateAdd(base, j);
      Val xh = b.CreateFMul(b.CreateFSub(loadDouble(k, 0, at), mean), rstd);
      k.store(at, b.CreateFPTrunc(xh, k.f32()));
    });
  });
}

void emitNormalizeGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  auto [rows, c] = rowsAndLength(k);
  Val n = b.CreateSIToFP(c, k.f64());
  k.splitLoop(rows, "r", [&](Val r) {
    Val base = b.CreateMul(r, c);
    // Operands dy (0) and x (1): sums of x, x^2, dy and dy * x.
    std::vector<Val> s = rowSums(k, base, c, 4, [&](const auto &load) {
      Val dy = load(0), x = load(1);
      return std::vector<Val>{x, b.CreateFMul(x, x), dy, b.CreateFMul(dy, x)};
    });
    auto [mean, rstd] = meanAndRstd(k, s[0], s[1], n);
    // mean(dy) and mean(dy * xh) = (mean(dy * x) - mean * mean(dy)) * rstd.
    Val meanDy = b.CreateFDiv(s[2], n);
    Val meanDyXh = b.CreateFMul(
        b.CreateFSub(b.CreateFDiv(s[3], n), b.CreateFMul(mean, meanDy)), rstd);
    k.loop(c, "j", [&](Val j) {
      Val at = b.CreateAdd(base, j);
      Val xh = b.CreateFMul(b.CreateFSub(loadDouble(k, 1, at), mean), rstd);
      Val d = b.CreateFSub(b.CreateFSub(loadDouble(k, 0, at), meanDy),
                           b.CreateFMul(xh, meanDyXh));
      k.store(at, b.CreateFPTrunc(b.CreateFMul(d, rstd), k.f32()));
    });
  });
}

} // namespace nn::cpu
