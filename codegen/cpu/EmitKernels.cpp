//===- EmitKernels.cpp - The loop nest of every op ------------------------===//
///
/// \file
/// One complete switch over the op families, then over each family's enum:
/// each case writes the loops of one node's kernel with a KernelEmitter. The
/// semantics are runtime/Interpreter.cpp's (read its header comment),
/// computed in float, with sums accumulated in double; elementwise math and
/// loss terms come from ir/ElementwiseMath.h, generically for the whole
/// elementwise family.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

#include <algorithm>
#include <limits>

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

using Dims = std::vector<int64_t>;

static std::string dimsText(const Dims &d) { return dimsStr(d); }

std::vector<Val> broadcastStrides(KernelEmitter &k, const Dims &a,
                                  const Dims &out) {
  NN_ASSERT(a.size() <= out.size(),
            "cannot broadcast " + dimsText(a) + " to " + dimsText(out));
  std::vector<Val> s(out.size(), k.i64(0));
  size_t off = out.size() - a.size();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == out[off + i] && a[i] != 1)
      s[off + i] = k.product(a, i + 1, a.size());
    else
      NN_ASSERT(a[i] == 1 || a[i] == out[off + i],
                "cannot broadcast " + dimsText(a) + " to " + dimsText(out));
  }
  return s;
}

bool isSingle(KernelEmitter &k, size_t i) {
  if (k.in[i].constant)
    return true;
  for (int64_t d : k.inType(i).dims)
    if (d != 1)
      return false;
  return true;
}

bool isFlatElementwise(const Graph &g, NodeId id) {
  const Node &n = g[id];
  for (NodeId in : n.inputs) {
    const Node &a = g[in];
    bool single = isScalarConst(a) ||
                  std::all_of(a.type.dims.begin(), a.type.dims.end(),
                              [](int64_t d) { return d == 1; });
    if (!single && a.type.dims != n.type.dims)
      return false;
  }
  return true;
}

void emitBroadcastLoop(
    KernelEmitter &k,
    const std::function<Val(const std::vector<Val> &)> &compute) {
  const Dims &out = k.node.type.dims;
  bool flat = true;
  for (size_t i = 0; i < k.in.size(); ++i)
    flat &= isSingle(k, i) || k.inType(i).dims == out;
  if (flat) {
    k.splitLoop(k.numel(k.node.type), "i", [&](Val i) {
      std::vector<Val> args;
      for (size_t j = 0; j < k.in.size(); ++j)
        args.push_back(k.load(j, isSingle(k, j) ? k.i64(0) : i));
      k.store(i, compute(args));
    });
    return;
  }
  std::vector<std::vector<Val>> strides;
  for (size_t j = 0; j < k.in.size(); ++j)
    strides.push_back(k.in[j].constant
                          ? std::vector<Val>(out.size(), k.i64(0))
                          : broadcastStrides(k, k.inType(j).dims, out));
  k.stridedLoop(
      out, strides,
      [&](Val flatIdx, std::vector<Val> offs) {
        std::vector<Val> args;
        for (size_t j = 0; j < k.in.size(); ++j)
          args.push_back(k.load(j, offs[j]));
        k.store(flatIdx, compute(args));
      },
      /*splitOuter=*/true);
}

namespace {

void emitElementwiseKernel(KernelEmitter &k) {
  LlvmMath math{k};
  emitBroadcastLoop(k, [&](const std::vector<Val> &args) {
    return emitElementwise(math, k.node.op, std::span<const Val>(args),
                           k.node.param);
  });
}

/// out = copy of operand 0 read along `strides` over the output's dims.
void emitStridedCopy(KernelEmitter &k, const std::vector<Val> &strides) {
  k.stridedLoop(k.node.type.dims, {strides},
                [&](Val flatIdx, std::vector<Val> offs) {
                  k.store(flatIdx, k.load(0, offs[0]));
                });
}

void emitMatMul(KernelEmitter &k) {
  const Dims &a = k.inType(0).dims, &bd = k.inType(1).dims;
  NN_ASSERT(!a.empty() && a.size() <= 2 && !bd.empty() && bd.size() <= 2,
            "matmul of " + dimsText(a) + " and " + dimsText(bd));
  bool aVec = a.size() == 1, bVec = bd.size() == 1;
  Val m = aVec ? k.i64(1) : k.dim(a[0]);
  Val kk = k.dim(a.back());
  Val n = bVec ? k.i64(1) : k.dim(bd[1]);
  IRBuilder<> &b = k.b;
  GemmSpec gemm(m, kk, n);
  gemm.a = [&](Val i, Val p) {
    return k.load(0, b.CreateAdd(b.CreateMul(i, kk), p));
  };
  gemm.b = [&](Val p, Val j) {
    return k.load(1, b.CreateAdd(b.CreateMul(p, n), j));
  };
  gemm.aBase = k.in[0].ptr; // row-major [m, kk]
  gemm.aRowStride = kk;
  gemm.aColStride = k.i64(1);
  emitGemm(k, gemm);
}

void emitTranspose(KernelEmitter &k) {
  const Dims &a = k.inType(0).dims;
  if (a.size() < 2) {
    emitStridedCopy(k, k.denseStrides(k.node.type.dims));
    return;
  }
  NN_ASSERT(a.size() == 2, "transpose of " + dimsText(a));
  // out [n, m]; out[j][i] = a[i][j] = a[i * n + j].
  emitStridedCopy(k, {k.i64(1), k.dim(a[1])});
}

void emitExpand(KernelEmitter &k) {
  Dims a = k.inType(0).dims;
  const Dims &like = k.node.type.dims;
  auto viaAxis = [&](size_t axis) {
    Dims aligned = a;
    aligned.insert(aligned.begin() + static_cast<std::ptrdiff_t>(axis), 1);
    NN_ASSERT(fitsBroadcast(aligned, like), "expand: " + dimsText(a) +
                                                " is not " + dimsText(like) +
                                                " reduced over an axis");
    emitStridedCopy(k, broadcastStrides(k, aligned, like));
  };
  if (k.in[0].constant) {
    emitStridedCopy(k, std::vector<Val>(like.size(), k.i64(0)));
    return;
  }
  int64_t axis = k.node.axis;
  if (axis >= 0 && a.size() + 1 == like.size() &&
      static_cast<size_t>(axis) < like.size())
    return viaAxis(static_cast<size_t>(axis));
  if (fitsBroadcast(a, like))
    return emitStridedCopy(k, broadcastStrides(k, a, like));
  for (size_t d = 0; a.size() + 1 == like.size() && d < like.size(); ++d) {
    Dims without = like;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(d));
    if (without == a)
      return viaAxis(d);
  }
  NN_UNREACHABLE("expand: cannot broadcast " + dimsText(a) + " to " +
                 dimsText(like));
}

/// The float result of a double sum at `acc` of `len` terms: the sum, or
/// for a Mean the sum divided by len.
Val reduceResult(KernelEmitter &k, bool mean, Val acc, Val len) {
  IRBuilder<> &b = k.b;
  Val s = b.CreateLoad(k.f64(), acc);
  if (mean)
    s = b.CreateFDiv(s, b.CreateSIToFP(len, k.f64()));
  return b.CreateFPTrunc(s, k.f32());
}

/// Sum (or Mean) of every element, to a scalar.
void emitReduceAll(KernelEmitter &k, bool mean) {
  IRBuilder<> &b = k.b;
  Val n = k.numel(k.inType(0));
  if (k.in[0].constant) {
    Val acc = k.accumulator("acc");
    k.loop(n, "i", [&](Val i) { k.accumulate(acc, k.load(0, i)); });
    k.store(k.i64(0), reduceResult(k, mean, acc, n));
    return;
  }
  auto *fv = FixedVectorType::get(k.f32(), 8);
  emitSumAll(
      k, mean, n,
      [&](Val first) {
        return b.CreateAlignedLoad(
            fv, b.CreateInBoundsGEP(k.f32(), k.in[0].ptr, first), Align(4));
      },
      [&](Val i) { return k.load(0, i); });
}

/// Sum (or Mean) over `axis`; -1 reduces everything.
void emitReduce(KernelEmitter &k, bool mean) {
  if (k.node.axis == -1)
    return emitReduceAll(k, mean);
  IRBuilder<> &b = k.b;
  const Dims &a = k.inType(0).dims;
  auto finish = [&](Val acc, Val len) {
    return reduceResult(k, mean, acc, len);
  };
  size_t axis = static_cast<size_t>(k.node.axis);
  NN_ASSERT(axis < a.size(), "reduction axis out of range");
  Val outer = k.product(a, 0, axis), len = k.dim(a[axis]);
  Val inner = k.product(a, axis + 1, a.size());
  auto *constInner = dyn_cast<ConstantInt>(inner);
  if (constInner && constInner->getSExtValue() > 1 &&
      constInner->getSExtValue() <= kMaxPairCols && !k.in[0].constant) {
    // A row of double sums, rows added in order (r ascending, as below):
    // the inner loop is contiguous and its sums independent (vectorizes).
    uint64_t w = constInner->getZExtValue();
    Val sums = k.slot(ArrayType::get(k.f64(), w), "sums");
    k.loop(outer, "o", [&](Val o) {
      k.loop(inner, "i", [&](Val i) {
        b.CreateStore(ConstantFP::get(k.f64(), 0.0),
                      b.CreateInBoundsGEP(k.f64(), sums, i));
      });
      k.loop(len, "r", [&](Val r) {
        Val row = b.CreateMul(b.CreateAdd(b.CreateMul(o, len), r), inner);
        k.loop(inner, "i", [&](Val i) {
          k.accumulate(b.CreateInBoundsGEP(k.f64(), sums, i),
                       k.load(0, b.CreateAdd(row, i)));
        });
      });
      k.loop(inner, "i", [&](Val i) {
        k.store(b.CreateAdd(b.CreateMul(o, inner), i),
                finish(b.CreateInBoundsGEP(k.f64(), sums, i), len));
      });
    });
    return;
  }
  k.loop(outer, "o", [&](Val o) {
    k.loop(inner, "i", [&](Val i) {
      Val acc = k.accumulator("acc");
      k.loop(len, "r", [&](Val r) {
        Val idx = b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(o, len), r),
                                          inner),
                              i);
        k.accumulate(acc, k.load(0, idx));
      });
      k.store(b.CreateAdd(b.CreateMul(o, inner), i), finish(acc, len));
    });
  });
}

void emitCount(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  const TensorType &a = k.inType(0);
  Val c = k.node.axis == -1 ? k.numel(a) : k.dim(a.dims.at(k.node.axis));
  Val v = b.CreateSIToFP(c, k.f32());
  k.loop(k.numel(k.node.type), "i", [&](Val i) { k.store(i, v); });
}

} // namespace

void emitSumAll(KernelEmitter &k, bool mean, Val n, const ChunkFn &chunk,
                const std::function<Val(Val)> &one) {
  IRBuilder<> &b = k.b;
  // Eight double lanes (element i into lane i % 8), then the lanes added
  // in order and the tail: vector loads, no loop-carried latency chain.
  // The sum differs from the interpreter's sequential double sum only in
  // double rounding; the same bits for any thread count.
  auto *dv = FixedVectorType::get(k.f64(), 8);
  Val lanes = k.slot(dv, "lanes");
  b.CreateStore(ConstantAggregateZero::get(dv), lanes);
  Val chunks = b.CreateUDiv(n, k.i64(8));
  k.loop(chunks, "c", [&](Val c) {
    Val x = b.CreateFPExt(chunk(b.CreateMul(c, k.i64(8))), dv);
    b.CreateStore(b.CreateFAdd(b.CreateLoad(dv, lanes), x), lanes);
  });
  Val acc = k.accumulator("acc");
  Val v = b.CreateLoad(dv, lanes);
  for (unsigned l = 0; l < 8; ++l)
    k.accumulate(acc, b.CreateExtractElement(v, l));
  Val done = b.CreateMul(chunks, k.i64(8));
  k.loop(b.CreateSub(n, done), "t",
         [&](Val t) { k.accumulate(acc, one(b.CreateAdd(done, t))); });
  k.store(k.i64(0), reduceResult(k, mean, acc, n));
}

std::pair<Val, Val> rowMaxAndSum(KernelEmitter &k, Val row, Val c) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  Val base = b.CreateMul(row, c);
  Val m = k.slot(k.f32(), "max");
  b.CreateStore(k.load(0, base), m);
  k.loop(c, "j", [&](Val j) {
    Val z = k.load(0, b.CreateAdd(base, j));
    b.CreateStore(emitMax(math, z, b.CreateLoad(k.f32(), m)), m);
  });
  Val mv = b.CreateLoad(k.f32(), m);
  Val s = k.accumulator("sum");
  k.loop(c, "j", [&](Val j) {
    Val z = k.load(0, b.CreateAdd(base, j));
    k.accumulate(s, emitExpShifted(math, z, mv));
  });
  return {mv, b.CreateFPTrunc(b.CreateLoad(k.f64(), s), k.f32())};
}

static void emitSoftmax(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  const Dims &d = k.node.type.dims;
  Val c = d.empty() ? k.i64(1) : k.dim(d.back());
  Val rows = d.empty() ? k.i64(1) : k.product(d, 0, d.size() - 1);
  k.loop(rows, "r", [&](Val r) {
    auto [m, s] = rowMaxAndSum(k, r, c);
    Val base = b.CreateMul(r, c);
    k.loop(c, "j", [&](Val j) {
      Val idx = b.CreateAdd(base, j);
      k.store(idx, b.CreateFDiv(emitExpShifted(math, k.load(0, idx), m), s));
    });
  });
}

std::pair<Val, Val> classIndex(KernelEmitter &k, Val v, Val classes) {
  IRBuilder<> &b = k.b;
  // Out-of-range floats make fptosi poison: clamp into i64 range first
  // (the executor rejects such labels; this keeps the kernel memory-safe).
  Val clamped = b.CreateSelect(
      b.CreateFCmpOGE(v, k.f32(0)),
      b.CreateSelect(b.CreateFCmpOLT(v, k.f32(1e9)), v, k.f32(-1)), k.f32(-1));
  Val id = b.CreateFPToSI(clamped, b.getInt64Ty());
  Val ok = b.CreateAnd(b.CreateICmpSGE(id, k.i64(0)),
                       b.CreateICmpSLT(id, classes));
  return {id, ok};
}

namespace {

void emitOneHot(KernelEmitter &k) {
  IRBuilder<> &b = k.b;
  Val classes = k.i64(k.node.classes);
  Val rows = k.numel(k.inType(0));
  k.loop(b.CreateMul(rows, classes), "z", [&](Val i) { k.store(i, k.f32(0)); });
  k.loop(rows, "r", [&](Val r) {
    auto [id, ok] = classIndex(k, k.load(0, r), classes);
    Val safe = b.CreateSelect(ok, id, k.i64(0));
    Val v = b.CreateSelect(ok, k.f32(1), k.f32(0));
    k.store(b.CreateAdd(b.CreateMul(r, classes), safe), v);
  });
}

/// Bce, BceLogits, Mse: the mean over elements of term(a, b).
template <class Term> void emitElementLoss(KernelEmitter &k, Term term) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  NN_ASSERT(k.inType(0).numelPerSample() == k.inType(1).numelPerSample() &&
                k.inType(0).hasBatch() == k.inType(1).hasBatch(),
            std::string(mnemonic(k.node.op)) + ": operands differ in size");
  Val n = k.numel(k.inType(0));
  Val acc = k.accumulator("acc");
  k.loop(n, "i", [&](Val i) {
    Val a = k.load(0, i);
    Val y = k.load(1, i);
    k.accumulate(acc, term(math, a, y));
  });
  Val mean = b.CreateFDiv(b.CreateLoad(k.f64(), acc),
                          b.CreateSIToFP(n, k.f64()));
  k.store(k.i64(0), b.CreateFPTrunc(mean, k.f32()));
}

/// CrossEntropy (on probabilities) and SoftmaxCrossEntropy (on logits): the
/// mean over rows of -log q[row, target]; targets are class ids (one per
/// row) or dense rows of the same shape.
void emitClassLoss(KernelEmitter &k, bool logits) {
  IRBuilder<> &b = k.b;
  LlvmMath math{k};
  const Dims &p = k.inType(0).dims;
  bool dense = k.inType(1).dims == p;
  Val c = p.empty() ? k.i64(1) : k.dim(p.back());
  Val rows = p.empty() ? k.i64(1) : k.product(p, 0, p.size() - 1);
  int64_t labelClasses = k.in[1].node->classes;
  Val classes = labelClasses > 0 ? k.i64(labelClasses) : c;
  Val total = k.accumulator("total");
  Val nan = k.f32(std::numeric_limits<double>::quiet_NaN());
  k.loop(rows, "r", [&](Val r) {
    Val base = b.CreateMul(r, c);
    Val lse = nullptr;
    if (logits) {
      auto [m, s] = rowMaxAndSum(k, r, c);
      lse = emitLogSumExp(math, m, s);
    }
    auto negLogQ = [&](Val j) {
      Val q = k.load(0, b.CreateAdd(base, j));
      return logits ? b.CreateFSub(lse, q) : math.neg(math.log(q));
    };
    if (!dense) {
      auto [id, ok] = classIndex(k, k.load(1, r), classes);
      ok = b.CreateAnd(ok, b.CreateICmpSLT(id, c));
      Val term = negLogQ(b.CreateSelect(ok, id, k.i64(0)));
      k.accumulate(total, b.CreateSelect(ok, term, nan));
      return;
    }
    k.loop(c, "j", [&](Val j) {
      Val t = k.load(1, b.CreateAdd(base, j));
      Val term = logits ? b.CreateFMul(t, negLogQ(j))
                        : emitNegXLogY(math, t,
                                       k.load(0, b.CreateAdd(base, j)));
      k.accumulate(total, term);
    });
  });
  Val mean = b.CreateFDiv(b.CreateLoad(k.f64(), total),
                          b.CreateSIToFP(rows, k.f64()));
  k.store(k.i64(0), b.CreateFPTrunc(mean, k.f32()));
}

} // namespace

/// The loops of a linear-algebra or shape op.
static void emitLinalgKernel(KernelEmitter &k) {
  switch (member<LinalgOp>(k.node.op)) {
  case LinalgOp::MatMul:
    return emitMatMul(k);
  case LinalgOp::Transpose:
    return emitTranspose(k);
  case LinalgOp::Expand:
    return emitExpand(k);
  case LinalgOp::Reshape:
    return emitReshape(k);
  }
  NN_UNREACHABLE("bad LinalgOp");
}

/// The loops of a reduction.
static void emitReduceKernel(KernelEmitter &k) {
  switch (member<ReduceOp>(k.node.op)) {
  case ReduceOp::Sum:
    return emitReduce(k, /*mean=*/false);
  case ReduceOp::Mean:
    return emitReduce(k, /*mean=*/true);
  case ReduceOp::Count:
    return emitCount(k);
  }
  NN_UNREACHABLE("bad ReduceOp");
}

/// The loops of a per-row op.
static void emitRowsKernel(KernelEmitter &k) {
  switch (member<RowsOp>(k.node.op)) {
  case RowsOp::Softmax:
    return emitSoftmax(k);
  case RowsOp::OneHot:
    return emitOneHot(k);
  case RowsOp::Normalize:
    return emitNormalize(k);
  case RowsOp::NormalizeGrad:
    return emitNormalizeGrad(k);
  }
  NN_UNREACHABLE("bad RowsOp");
}

/// The loops of a loss: a mean of per-element or per-row terms.
static void emitLossKernel(KernelEmitter &k) {
  switch (member<LossOp>(k.node.op)) {
  case LossOp::Bce:
    return emitElementLoss(k, [](LlvmMath &e, Val p, Val y) {
      return emitBceTerm(e, p, y);
    });
  case LossOp::BceLogits:
    return emitElementLoss(k, [](LlvmMath &e, Val z, Val y) {
      return emitBceLogitsTerm(e, z, y);
    });
  case LossOp::Mse:
    return emitElementLoss(k, [](LlvmMath &e, Val p, Val y) {
      return emitSquaredError(e, p, y);
    });
  case LossOp::CrossEntropy:
    return emitClassLoss(k, /*logits=*/false);
  case LossOp::SoftmaxCrossEntropy:
    return emitClassLoss(k, /*logits=*/true);
  }
  NN_UNREACHABLE("bad LossOp");
}

void emitKernelBody(KernelEmitter &k) {
  switch (family(k.node.op)) {
  case OpFamily::Leaf:
    NN_UNREACHABLE(std::string("no kernel for a leaf: ") +
                   mnemonic(k.node.op));
  case OpFamily::Elementwise:
    return emitElementwiseKernel(k);
  case OpFamily::Linalg:
    return emitLinalgKernel(k);
  case OpFamily::Reduce:
    return emitReduceKernel(k);
  case OpFamily::Rows:
    return emitRowsKernel(k);
  case OpFamily::Random:
    return emitRandomKernel(k);
  case OpFamily::Spatial:
    return emitSpatialKernel(k);
  case OpFamily::Loss:
    return emitLossKernel(k);
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return emitFusedKernel(k);
  }
  NN_UNREACHABLE("unknown op family");
}

} // namespace nn::cpu
