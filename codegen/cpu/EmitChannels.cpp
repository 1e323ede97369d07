//===- EmitChannels.cpp - Batch norm's channel ops ------------------------===//
///
/// \file
/// The per-channel ops of ir/Ops.def on [N,C,...] (S = the product of the
/// axes after C): channel_sum (with act'(a)), channel_mean, channel_var,
/// batch_normalize and batch_normalize_grad, split between the tasks by
/// channels; channel_affine, split by planes (n, c).
///
/// Algorithm: a channel's sums run over n, then over its contiguous run of
/// S elements: whole chunks of 8 into eight double lanes (element s into
/// lane s % 8), the tail of each run into one double; at the end the lanes
/// are added in order, then the tails. One task computes a channel, so the
/// order, and the bits, do not depend on the thread count. The variance is
/// E[x^2] - mean^2 in double, clamped at 0 (as EmitNormalize.cpp's rows);
/// normalized values are computed in double and stored as float.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EmitSpatial.h"

#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

namespace {

constexpr unsigned kLanes = 8;

/// The channel geometry of the node's operand 0: N, C, S.
struct Channels {
  Val n;
  int64_t c, s;
};

Channels channelsOf(KernelEmitter &k, const std::vector<int64_t> &d) {
  NN_ASSERT(d.size() >= 2, "a channel op of " + dimsStr(d));
  int64_t s = 1;
  for (size_t i = 2; i < d.size(); ++i)
    s *= d[i];
  return {k.dim(d[0]), d[1], s};
}

/// Loads operand `i` at `at`: <lanes x float> (a splat for an inlined
/// constant) or a float when lanes is 0.
Val loadLanes(KernelEmitter &k, size_t i, Val at, unsigned lanes) {
  if (!lanes)
    return k.load(i, at);
  if (k.in[i].constant)
    return k.b.CreateVectorSplat(lanes, k.load(i, at));
  Val p = k.b.CreateInBoundsGEP(k.f32(), k.in[i].ptr, at);
  return k.b.CreateAlignedLoad(FixedVectorType::get(k.f32(), lanes), p,
                               Align(4));
}

/// The terms a channel sums (float, extended to double before they are
/// added, or double), given a loader of operand i at the current
/// element(s) as float and the lane count (0: scalars).
using Terms = std::function<std::vector<Val>(
    const std::function<Val(size_t)> &, unsigned)>;

/// The double sums over channel `c` of each of `count` terms.
std::vector<Val> channelSums(KernelEmitter &k, const Channels &ch, Val c,
                             size_t count, const Terms &terms) {
  IRBuilder<> &b = k.b;
  auto *dv = FixedVectorType::get(k.f64(), kLanes);
  std::vector<Val> lanes(count), tails(count);
  for (size_t t = 0; t < count; ++t) {
    lanes[t] = k.slot(dv, "lanes");
    b.CreateStore(ConstantAggregateZero::get(dv), lanes[t]);
    tails[t] = k.accumulator("tail");
  }
  const int64_t chunks = ch.s / kLanes;
  auto toDouble = [&](Val v) {
    if (!v->getType()->getScalarType()->isFloatTy())
      return v;
    return b.CreateFPExt(v, v->getType()->isVectorTy()
                                ? static_cast<Type *>(dv)
                                : k.f64());
  };
  k.loop(ch.n, "n", [&](Val n) {
    Val base = b.CreateMul(b.CreateAdd(b.CreateMul(n, k.i64(ch.c)), c),
                           k.i64(ch.s));
    k.loop(k.i64(chunks), "ch", [&](Val q) {
      Val at = b.CreateAdd(base, b.CreateMul(q, k.i64(kLanes)));
      std::vector<Val> v =
          terms([&](size_t i) { return loadLanes(k, i, at, kLanes); }, kLanes);
      for (size_t t = 0; t < count; ++t)
        b.CreateStore(b.CreateFAdd(b.CreateLoad(dv, lanes[t]), toDouble(v[t])),
                      lanes[t]);
    });
    k.loop(k.i64(ch.s - chunks * kLanes), "t", [&](Val e) {
      Val at = b.CreateAdd(base, b.CreateAdd(k.i64(chunks * kLanes), e));
      std::vector<Val> v =
          terms([&](size_t i) { return loadLanes(k, i, at, 0); }, 0);
      for (size_t t = 0; t < count; ++t)
        k.accumulate(tails[t], toDouble(v[t]));
    });
  });
  std::vector<Val> sums(count);
  for (size_t t = 0; t < count; ++t) {
    Val acc = k.accumulator("sum");
    Val v = b.CreateLoad(dv, lanes[t]);
    for (unsigned l = 0; l < kLanes; ++l)
      k.accumulate(acc, b.CreateExtractElement(v, l));
    k.accumulate(acc, b.CreateLoad(k.f64(), tails[t]));
    sums[t] = b.CreateLoad(k.f64(), acc);
  }
  return sums;
}

/// The channel's element count N * S as a double.
Val countOf(KernelEmitter &k, const Channels &ch) {
  return k.b.CreateSIToFP(k.b.CreateMul(ch.n, k.i64(ch.s)), k.f64());
}

/// The mean and 1 / sqrt(var + eps) (var biased, eps Node::param) from
/// the sums of x and x^2 over `n` (a double) elements.
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

/// For each element of channel `c`: body(flat index).
void eachOfChannel(KernelEmitter &k, const Channels &ch, Val c,
                   const std::function<void(Val)> &body) {
  IRBuilder<> &b = k.b;
  k.loop(ch.n, "n", [&](Val n) {
    Val base = b.CreateMul(b.CreateAdd(b.CreateMul(n, k.i64(ch.c)), c),
                           k.i64(ch.s));
    k.loop(k.i64(ch.s), "s", [&](Val e) { body(b.CreateAdd(base, e)); });
  });
}

Val loadDouble(KernelEmitter &k, size_t i, Val at) {
  return k.b.CreateFPExt(k.load(i, at), k.f64());
}

/// Operand `i` extended to double, at `lanes` lanes (0: a scalar).
Val widen(KernelEmitter &k, Val v, unsigned lanes) {
  return k.b.CreateFPExt(v, lanes ? static_cast<Type *>(FixedVectorType::get(
                                        k.f64(), lanes))
                                  : k.f64());
}

/// The terms x and x^2 of operand `i`, in double.
Terms squares(KernelEmitter &k, size_t i = 0) {
  return [&k, i](const std::function<Val(size_t)> &load, unsigned lanes) {
    Val x = widen(k, load(i), lanes);
    return std::vector<Val>{x, k.b.CreateFMul(x, x)};
  };
}

} // namespace

void emitChannelReduce(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  Channels ch = channelsOf(k, k.inType(0).dims);
  auto op = member<SpatialOp>(k.node.op);
  bool masked = op == SpatialOp::ChannelSum && k.in.size() == 2 &&
                k.node.act != Activation::None;
  k.splitLoop(k.i64(ch.c), "c", [&](Val c) {
    Val r;
    if (op == SpatialOp::ChannelVar) {
      std::vector<Val> sx = channelSums(k, ch, c, 2, squares(k));
      Val n = countOf(k, ch);
      Val num = b.CreateFSub(sx[1], b.CreateFMul(sx[0], b.CreateFDiv(sx[0], n)));
      Val zero = ConstantFP::get(k.f64(), 0.0);
      num = b.CreateSelect(b.CreateFCmpOGT(num, zero), num, zero);
      r = b.CreateFDiv(num, b.CreateFSub(n, ConstantFP::get(k.f64(), 1.0)));
    } else {
      std::vector<Val> s = channelSums(
          k, ch, c, 1,
          [&](const std::function<Val(size_t)> &load, unsigned lanes) {
            Val v = load(0);
            if (masked) {
              LlvmMath math{k, lanes};
              v = math.mul(v, emitActivationGrad(math, k.node.act, load(1),
                                                 k.node.param));
            }
            return std::vector<Val>{v};
          });
      r = op == SpatialOp::ChannelMean ? b.CreateFDiv(s[0], countOf(k, ch))
                                       : s[0];
    }
    k.store(c, b.CreateFPTrunc(r, k.f32()));
  });
}

void emitChannelAffine(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  Channels ch = channelsOf(k, k.inType(0).dims);
  bool shift = k.in.size() == 3;
  k.splitLoop(b.CreateMul(ch.n, k.i64(ch.c)), "plane", [&](Val pl) {
    Val c = b.CreateURem(pl, k.i64(ch.c));
    Val scale = k.load(1, c);
    Val t = shift ? k.load(2, c) : nullptr;
    Val base = b.CreateMul(pl, k.i64(ch.s));
    k.loop(k.i64(ch.s), "s", [&](Val e) {
      Val at = b.CreateAdd(base, e);
      Val y = b.CreateFMul(k.load(0, at), scale);
      k.store(at, shift ? b.CreateFAdd(y, t) : y);
    });
  });
}

void emitBatchNormalize(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  Channels ch = channelsOf(k, k.inType(0).dims);
  k.splitLoop(k.i64(ch.c), "c", [&](Val c) {
    std::vector<Val> s = channelSums(k, ch, c, 2, squares(k));
    auto [mean, rstd] = meanAndRstd(k, s[0], s[1], countOf(k, ch));
    eachOfChannel(k, ch, c, [&](Val at) {
      Val xh = b.CreateFMul(b.CreateFSub(loadDouble(k, 0, at), mean), rstd);
      k.store(at, b.CreateFPTrunc(xh, k.f32()));
    });
  });
}

void emitBatchNormalizeGrad(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  // Operands dy, x.
  Channels ch = channelsOf(k, k.inType(0).dims);
  k.splitLoop(k.i64(ch.c), "c", [&](Val c) {
    // Sums of x, x^2, dy and dy * x.
    std::vector<Val> s = channelSums(
        k, ch, c, 4,
        [&](const std::function<Val(size_t)> &load, unsigned lanes) {
          Val dy = widen(k, load(0), lanes), x = widen(k, load(1), lanes);
          return std::vector<Val>{x, b.CreateFMul(x, x), dy,
                                  b.CreateFMul(dy, x)};
        });
    Val n = countOf(k, ch);
    auto [mean, rstd] = meanAndRstd(k, s[0], s[1], n);
    // mean(dy) and mean(dy * xh) = (mean(dy * x) - mean * mean(dy)) * rstd.
    Val meanDy = b.CreateFDiv(s[2], n);
    Val meanDyXh = b.CreateFMul(
        b.CreateFSub(b.CreateFDiv(s[3], n), b.CreateFMul(mean, meanDy)), rstd);
    eachOfChannel(k, ch, c, [&](Val at) {
      Val xh = b.CreateFMul(b.CreateFSub(loadDouble(k, 1, at), mean), rstd);
      Val d = b.CreateFSub(b.CreateFSub(loadDouble(k, 0, at), meanDy),
                           b.CreateFMul(xh, meanDyXh));
      k.store(at, b.CreateFPTrunc(b.CreateFMul(d, rstd), k.f32()));
    });
  });
}

} // namespace nn::cpu
