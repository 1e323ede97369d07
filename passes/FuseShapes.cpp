//===- FuseShapes.cpp - Shape rules of the fused ops ----------------------===//
///
/// \file
/// Algorithm: a complete switch over the fused families, then over each
/// family's enum (every update op by one rule); each rule checks the
/// operands against the semantics written in Ops.def and returns the
/// result's type. Non-fused families are an internal error here.
///
//===----------------------------------------------------------------------===//

#include "passes/FuseShapes.h"
#include "passes/InferShapes.h"

#include "ir/FusedMath.h"
#include "ir/Support.h"

namespace nn {

namespace {

struct Checker {
  const Node &n;
  const std::vector<TensorType> &ts;
  std::string &err;

  bool fail(const std::string &msg) {
    if (err.empty())
      err = std::string("'") + mnemonic(n.op) + "' " + msg;
    return false;
  }
  bool f32(size_t i) {
    return ts[i].dtype == DType::F32 ||
           fail("needs f32 operand " + std::to_string(i) + ", got " +
                ts[i].str());
  }
  bool scalar(size_t i) {
    return (f32(i) && ts[i].isScalar()) ||
           fail("needs a scalar operand " + std::to_string(i) + ", got " +
                ts[i].str());
  }
  bool same(size_t i, size_t j) {
    return ts[i].dims == ts[j].dims ||
           fail("operands " + std::to_string(i) + " and " + std::to_string(j) +
                " differ: " + ts[i].str() + " and " + ts[j].str());
  }
  bool rank(size_t i, int64_t lo, int64_t hi) {
    return (ts[i].rank() >= lo && ts[i].rank() <= hi) ||
           fail("operand " + std::to_string(i) + " has rank " +
                std::to_string(ts[i].rank()) + ", expected " +
                (lo == hi ? std::to_string(lo)
                          : std::to_string(lo) + " to " + std::to_string(hi)));
  }
  bool hasAct() {
    return n.act != Activation::None || fail("needs an activation");
  }
};

} // namespace

namespace {

TensorType of(std::vector<int64_t> dims) { return TensorType::of(dims); }

TensorType mismatch(Checker &c, const std::string &what) {
  c.fail("shapes do not match: " + what);
  return TensorType{};
}

/// act(x @ w + b): the product's shape, the bias broadcast to it.
TensorType denseType(Checker &c) {
  const std::vector<TensorType> &ts = c.ts;
  if (!c.f32(0) || !c.f32(1) || !c.f32(2) || !c.rank(0, 2, 2) ||
      !c.rank(1, 1, 2))
    return {};
  if (ts[0].dims[1] != ts[1].dims[0])
    return mismatch(c, ts[0].str() + " @ " + ts[1].str());
  TensorType prod = ts[1].rank() == 2 ? of({ts[0].dims[0], ts[1].dims[1]})
                                      : of({ts[0].dims[0]});
  auto dims = broadcastDims(prod.dims, ts[2].dims);
  if (!dims || *dims != prod.dims)
    return mismatch(c, "bias " + ts[2].str() + " does not broadcast to " +
                           prod.str());
  return prod;
}

/// op(a) @ op(b), either operand read transposed.
TensorType fusedMatMulType(Checker &c) {
  const Node &n = c.n;
  if (!c.f32(0) || !c.f32(1) || !c.rank(0, 2, 2) ||
      !c.rank(1, n.transB ? 2 : 1, 2))
    return {};
  std::vector<int64_t> a = c.ts[0].dims, b = c.ts[1].dims;
  if (n.transA)
    std::swap(a[0], a[1]);
  if (n.transB)
    std::swap(b[0], b[1]);
  if (a[1] != b[0])
    return mismatch(c, dimsStr(a) + " @ " + dimsStr(b) + " (after transposes)");
  return b.size() == 2 ? of({a[0], b[1]}) : of({a[0]});
}

TensorType denseFamilyType(Checker &c) {
  const std::vector<TensorType> &ts = c.ts;
  switch (member<DenseOp>(c.n.op)) {
  case DenseOp::Dense:
    return denseType(c);
  case DenseOp::FusedMatMul:
    return fusedMatMulType(c);
  case DenseOp::DenseGradInput:
    // (da * act'(a)) @ w^T: da, a [m,n]; w [k,n].
    if (!c.hasAct() || !c.f32(0) || !c.f32(1) || !c.f32(2) ||
        !c.rank(0, 2, 2) || !c.same(0, 1) || !c.rank(2, 2, 2))
      return {};
    if (ts[0].dims[1] != ts[2].dims[1])
      return mismatch(c, ts[0].str() + " @ " + ts[2].str() + "^T");
    return of({ts[0].dims[0], ts[2].dims[0]});
  case DenseOp::DenseGradWeight:
    // x^T @ (da * act'(a)): x [m,k]; da, a [m,n] or [m].
    if (!c.hasAct() || !c.f32(0) || !c.f32(1) || !c.f32(2) ||
        !c.rank(0, 2, 2) || !c.rank(1, 1, 2) || !c.same(1, 2))
      return {};
    if (ts[0].dims[0] != ts[1].dims[0])
      return mismatch(c, ts[0].str() + "^T @ " + ts[1].str());
    return ts[1].rank() == 2 ? of({ts[0].dims[1], ts[1].dims[1]})
                             : of({ts[0].dims[1]});
  case DenseOp::DenseGradBias:
    if (!c.hasAct() || !c.f32(0) || !c.f32(1) || !c.rank(0, 2, 2) ||
        !c.same(0, 1))
      return {};
    return of({ts[0].dims[1]});
  }
  NN_UNREACHABLE("bad DenseOp");
}

TensorType lossGradType(Checker &c) {
  const std::vector<TensorType> &ts = c.ts;
  switch (member<LossGradOp>(c.n.op)) {
  case LossGradOp::SoftmaxXentGrad:
    if (!c.f32(0) || !c.rank(0, 2, 2) || !c.scalar(2))
      return {};
    if (ts[1].dtype != DType::I32 || ts[1].rank() != 1 ||
        ts[1].dims[0] != ts[0].dims[0])
      return mismatch(c, "class ids " + ts[1].str() + " for logits " +
                             ts[0].str());
    return ts[0];
  case LossGradOp::SigmoidBceGrad:
    if (!c.f32(0) || !c.f32(1) || !c.scalar(2))
      return {};
    if (ts[0].hasBatch() != ts[1].hasBatch() ||
        ts[0].numelPerSample() != ts[1].numelPerSample())
      return mismatch(c, "logits " + ts[0].str() + " and targets " +
                             ts[1].str());
    return ts[0];
  }
  NN_UNREACHABLE("bad LossGradOp");
}

/// Every update: tensor operands of one shape, the last a scalar.
TensorType updateType(Checker &c) {
  size_t tensors = updateTensorCount(member<UpdateOp>(c.n.op));
  for (size_t i = 0; i < tensors && i < c.ts.size(); ++i)
    if (!c.f32(i) || (i > 0 && !c.same(0, i)))
      return {};
  for (size_t i = tensors; i < c.ts.size(); ++i)
    if (!c.scalar(i))
      return {};
  return c.ts[0];
}

/// fused.elementwise: a valid body; every operand broadcast to the result.
TensorType fusedElementwiseType(Checker &c) {
  std::string bodyErr = checkFusedBody(c.n.body, c.ts.size());
  if (!bodyErr.empty()) {
    c.fail(bodyErr);
    return {};
  }
  std::vector<std::vector<int64_t>> dims;
  for (const TensorType &t : c.ts)
    dims.push_back(t.dims);
  BroadcastResult b = broadcastAll(dims);
  // Operands are checked in order: f32 first, then the broadcast.
  size_t checked = b.failedAt ? *b.failedAt + 1 : c.ts.size();
  for (size_t i = 0; i < checked; ++i)
    if (!c.f32(i))
      return {};
  if (b.failedAt)
    return mismatch(c, "cannot broadcast " + c.ts[*b.failedAt].str() +
                           " with " + dimsStr(b.dims));
  return of(b.dims);
}

} // namespace

size_t updateTensorCount(UpdateOp op) {
  switch (op) {
  case UpdateOp::SgdMomentum:
  case UpdateOp::Sgd:
  case UpdateOp::AdamMoment:
  case UpdateOp::AdamVariance:
    return 2;
  case UpdateOp::Adam:
    return 3;
  }
  NN_UNREACHABLE("bad UpdateOp");
}

TensorType fusedOpType(const Node &n, const std::vector<TensorType> &ts,
                       std::string &err) {
  Checker c{n, ts, err};
  switch (family(n.op)) {
  case OpFamily::Dense:
    return denseFamilyType(c);
  case OpFamily::LossGrad:
    return lossGradType(c);
  case OpFamily::Update:
    return updateType(c);
  case OpFamily::FusedElementwise:
    return fusedElementwiseType(c);
  case OpFamily::Leaf:
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
    break;
  }
  NN_UNREACHABLE(std::string("fusedOpType of a non-fused op: ") +
                 mnemonic(n.op));
}

} // namespace nn
