//===- InferShapes.cpp - Shape and dtype inference ------------------------===//
///
/// \file
/// Algorithm: one walk in topological order; each node's type comes from its
/// operands' (already inferred) types by the op's rule in inferNodeType: a
/// complete switch over the op's family, then over the family's own enum;
/// every elementwise op has one rule (broadcasting, broadcastDims). A node
/// whose operand has no type stays unknown without a report, so one mistake
/// gives one error.
///
//===----------------------------------------------------------------------===//

#include "passes/InferShapes.h"
#include "passes/FuseShapes.h"
#include "passes/SpatialShapes.h"
#include "passes/ShapeRules.h"

#include "ir/Support.h"
#include "ir/TensorLimits.h"

#include <functional>

namespace nn {

std::optional<std::vector<int64_t>>
broadcastDims(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align trailing dimensions; a missing dimension acts as 1.
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return std::nullopt;
  }
  return out;
}

BroadcastResult broadcastAll(const std::vector<std::vector<int64_t>> &lists) {
  BroadcastResult r;
  for (size_t i = 0; i < lists.size(); ++i) {
    auto d = broadcastDims(r.dims, lists[i]);
    if (!d) {
      r.failedAt = i;
      return r;
    }
    r.dims = std::move(*d);
  }
  return r;
}

namespace {

ShapeResult fail(std::string msg) {
  ShapeResult r;
  r.error = std::move(msg);
  return r;
}
ShapeResult ok(TensorType t) {
  ShapeResult r;
  r.type = std::move(t);
  return r;
}

/// Number of operands whose type is not known yet.
bool operandsKnown(const Graph &g, const Node &n) {
  for (NodeId in : n.inputs)
    if (in < 0 || in >= g.size() || !g[in].type.known)
      return false;
  return true;
}

std::string needsF32(const Node &n, const TensorType &t) {
  return std::string("'") + mnemonic(n.op) + "' needs f32 operands, got " +
         t.str();
}

/// The type of reducing `t` over `axis` (-1: everything).
ShapeResult reduceType(const Node &n, const TensorType &t) {
  if (n.axis == -1)
    return ok(TensorType::scalar());
  if (n.axis < 0 || n.axis >= t.rank())
    return fail(std::string("'") + mnemonic(n.op) + "' axis " +
                std::to_string(n.axis) + " is out of range for " + t.str());
  std::vector<int64_t> dims = t.dims;
  dims.erase(dims.begin() + n.axis);
  return ok(TensorType::of(dims));
}

/// bce, bce_logits, mse: predictions and targets with the same number of
/// elements per sample ([N,1] against [N] is fine).
ShapeResult pairLossType(const Node &n, const TensorType &p,
                         const TensorType &y) {
  if (p.dtype != DType::F32)
    return fail(needsF32(n, p));
  if (y.dtype != DType::F32) {
    ShapeResult r = fail(std::string("'") + mnemonic(n.op) +
                         "' needs f32 targets, got class ids " + y.str());
    r.help = "use 'cross_entropy' for class labels, or declare the label "
             "'binary' or 'real'";
    return r;
  }
  if (p.hasBatch() != y.hasBatch() ||
      p.numelPerSample() != y.numelPerSample())
    return fail(std::string("'") + mnemonic(n.op) +
                "' operands do not match: " + p.str() + " and " + y.str());
  return ok(TensorType::scalar());
}

/// cross_entropy, softmax_cross_entropy: [B,C] scores and [B] class ids.
ShapeResult classLossType(const Graph &g, const Node &n, const TensorType &p,
                          const TensorType &y) {
  std::string what = std::string("'") + mnemonic(n.op) + "' ";
  if (p.dtype != DType::F32 || p.rank() != 2)
    return fail(what + "needs f32 scores [N,classes], got " + p.str());
  if (y.dtype != DType::I32 || y.rank() != 1 || y.dims[0] != p.dims[0])
    return fail(what + "needs class labels i32" + dimsStr({p.dims[0]}) +
                " for scores " + p.str() + ", got " + y.str());
  const Node &label = g[n.inputs[1]];
  if (label.op == OpKind::Label && label.classes != 0 &&
      label.classes != p.dims[1])
    return fail(what + "has " + std::to_string(p.dims[1]) +
                " classes but label '" + label.name + "' has " +
                std::to_string(label.classes));
  return ok(TensorType::scalar());
}

} // namespace

namespace {

using Operand = std::function<const TensorType &(int)>;

ShapeResult leafType(const Node &n) {
  switch (member<LeafOp>(n.op)) {
  case LeafOp::Input:
  case LeafOp::Label:
  case LeafOp::Param:
  case LeafOp::State:
    if (!n.type.known)
      return fail(std::string(mnemonic(n.op)) + " '" + n.name +
                  "' has no declared type");
    return ok(n.type);
  case LeafOp::Const:
    if (n.type.known) {
      if (n.type.numel() != static_cast<int64_t>(n.values.size()))
        return fail("const of type " + n.type.str() + " has " +
                    std::to_string(n.values.size()) + " values");
      return ok(n.type);
    }
    // An untyped literal: a scalar, or a vector of its values.
    if (n.values.size() == 1)
      return ok(TensorType::scalar());
    return ok(TensorType::of({static_cast<int64_t>(n.values.size())}));
  }
  NN_UNREACHABLE("bad LeafOp");
}

/// Every elementwise op, whatever its arity: f32 operands broadcast (numpy,
/// trailing dimensions) to the result's shape.
ShapeResult elementwiseType(const Node &n, const Operand &in) {
  std::vector<std::vector<int64_t>> dims;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (in(i).dtype != DType::F32)
      return fail(needsF32(n, in(i)));
    dims.push_back(in(i).dims);
  }
  BroadcastResult b = broadcastAll(dims);
  if (b.failedAt)
    return fail("cannot broadcast " + TensorType::of(b.dims).str() + " and " +
                in(*b.failedAt).str() + " in '" + mnemonic(n.op) + "'");
  return ok(TensorType::of(b.dims));
}

ShapeResult linalgType(const Node &n, const Operand &in) {
  switch (member<LinalgOp>(n.op)) {
  case LinalgOp::MatMul: {
    // [m,k] @ [k,n] -> [m,n];  [m,k] @ [k] -> [m].
    const TensorType &a = in(0), &b = in(1);
    if (a.dtype != DType::F32 || b.dtype != DType::F32)
      return fail(needsF32(n, a.dtype != DType::F32 ? a : b));
    if (a.rank() != 2 || (b.rank() != 1 && b.rank() != 2) ||
        a.dims[1] != b.dims[0])
      return fail("matmul shapes do not match: " + a.str() + " @ " + b.str());
    if (b.rank() == 1)
      return ok(TensorType::of({a.dims[0]}));
    return ok(TensorType::of({a.dims[0], b.dims[1]}));
  }
  case LinalgOp::Transpose:
    if (in(0).rank() != 2)
      return fail("transpose needs a matrix, got " + in(0).str());
    return ok(TensorType::of({in(0).dims[1], in(0).dims[0]}, in(0).dtype));
  case LinalgOp::Expand: {
    // Broadcast operand 0 to operand 1's shape.
    auto dims = broadcastDims(in(0).dims, in(1).dims);
    if (!dims || *dims != in(1).dims)
      return fail("cannot expand " + in(0).str() + " to " + in(1).str());
    return ok(TensorType::of(in(1).dims, in(0).dtype));
  }
  case LinalgOp::Reshape: {
    // The batch stays first: N in the shape exactly when in the operand.
    const TensorType &a = in(0);
    bool batchOk = a.hasBatch() == (!n.shape.empty() && n.shape[0] == kBatch);
    for (size_t i = 1; i < n.shape.size(); ++i)
      batchOk &= n.shape[i] >= 1;
    TensorType t = TensorType::of(n.shape, a.dtype);
    if (!batchOk || t.numel(1) != a.numel(1))
      return fail("cannot reshape " + a.str() + " to " + t.str() +
                  (batchOk ? ": they hold different numbers of elements"
                           : ": the batch axis N must stay first"));
    return ok(t);
  }
  }
  NN_UNREACHABLE("bad LinalgOp");
}

/// Reductions over `axis` (-1: all, a scalar).
ShapeResult reduceOpType(const Node &n, const Operand &in) {
  switch (member<ReduceOp>(n.op)) {
  case ReduceOp::Sum:
  case ReduceOp::Mean:
    if (in(0).dtype != DType::F32)
      return fail(needsF32(n, in(0)));
    return reduceType(n, in(0));
  case ReduceOp::Count:
    return reduceType(n, in(0));
  }
  NN_UNREACHABLE("bad ReduceOp");
}

ShapeResult rowsType(const Node &n, const Operand &in) {
  switch (member<RowsOp>(n.op)) {
  case RowsOp::Softmax:
    if (in(0).dtype != DType::F32 || in(0).rank() == 0)
      return fail("softmax needs an f32 tensor of rank 1 or more, got " +
                  in(0).str());
    if (n.axis != -1 && n.axis != in(0).rank() - 1)
      return fail("softmax is over the last axis only");
    return ok(in(0));
  case RowsOp::OneHot:
    if (in(0).dtype != DType::I32 || in(0).rank() != 1)
      return fail("onehot needs class ids i32[N], got " + in(0).str());
    if (n.classes <= 0)
      return fail("onehot needs a positive number of classes");
    return ok(TensorType::of({in(0).dims[0], n.classes}));
  case RowsOp::Normalize:
    if (in(0).dtype != DType::F32 || in(0).rank() == 0)
      return fail("layer_norm needs an f32 tensor of rank 1 or more, got " +
                  in(0).str());
    return ok(in(0));
  case RowsOp::NormalizeGrad:
    if (in(0) != in(1))
      return fail("normalize_grad needs dy and x of one type, got " +
                  in(0).str() + " and " + in(1).str());
    return ok(in(0));
  }
  NN_UNREACHABLE("bad RowsOp");
}

/// Random ops: x's type; the step and the first row scalars.
ShapeResult randomType(const Node &n, const Operand &in) {
  switch (member<RandomOp>(n.op)) {
  case RandomOp::Dropout:
    if (in(0).dtype != DType::F32)
      return fail("dropout needs an f32 tensor, got " + in(0).str());
    if (!in(1).isScalar())
      return fail("dropout's step must be a scalar, got " + in(1).str());
    if (!in(2).isScalar())
      return fail("dropout's first row must be a scalar, got " + in(2).str());
    return ok(in(0));
  }
  NN_UNREACHABLE("bad RandomOp");
}

/// Losses: a scalar, the mean over the batch.
ShapeResult lossType(const Graph &g, const Node &n, const Operand &in) {
  switch (member<LossOp>(n.op)) {
  case LossOp::Bce:
  case LossOp::BceLogits:
  case LossOp::Mse:
    return pairLossType(n, in(0), in(1));
  case LossOp::CrossEntropy:
  case LossOp::SoftmaxCrossEntropy:
    return classLossType(g, n, in(0), in(1));
  }
  NN_UNREACHABLE("bad LossOp");
}

/// Spatial ops (semantics in Ops.def): passes/SpatialShapes.cpp.
ShapeResult spatialType(const Node &n, const Operand &in) {
  std::vector<TensorType> types;
  for (size_t i = 0; i < n.inputs.size(); ++i)
    types.push_back(in(static_cast<int>(i)));
  std::string err;
  TensorType t = spatialOpType(n, types, err);
  return err.empty() ? ok(t) : fail(err);
}

/// Fused ops (semantics in Ops.def): passes/FuseShapes.cpp.
ShapeResult fusedType(const Graph &g, const Node &n) {
  std::vector<TensorType> types;
  for (NodeId i : n.inputs)
    types.push_back(g[i].type);
  std::string err;
  TensorType t = fusedOpType(n, types, err);
  return err.empty() ? ok(t) : fail(err);
}

} // namespace

ShapeResult inferNodeType(const Graph &g, const Node &n) {
  int arity = opInfo(n.op).arity; // -1: one or more
  if (arity < 0 ? n.inputs.empty()
                : static_cast<int>(n.inputs.size()) != arity)
    return fail(std::string("'") + mnemonic(n.op) + "' takes " +
                (arity < 0 ? std::string("one or more")
                           : std::to_string(arity)) +
                " operands");
  if (!operandsKnown(g, n))
    return ok(TensorType{});
  Operand in = [&](int i) -> const TensorType & {
    return g[n.inputs[i]].type;
  };

  switch (family(n.op)) {
  case OpFamily::Leaf:
    return leafType(n);
  case OpFamily::Elementwise:
    return elementwiseType(n, in);
  case OpFamily::Linalg:
    return linalgType(n, in);
  case OpFamily::Reduce:
    return reduceOpType(n, in);
  case OpFamily::Rows:
    return rowsType(n, in);
  case OpFamily::Random:
    return randomType(n, in);
  case OpFamily::Spatial:
    return spatialType(n, in);
  case OpFamily::Loss:
    return lossType(g, n, in);
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return fusedType(g, n);
  }
  NN_UNREACHABLE("bad OpFamily");
}

Graph inferShapes(const Graph &g, DiagEngine &diags) {
  Graph out = g;
  bool failed = false;
  for (NodeId id = 0; id < out.size(); ++id) {
    Node &n = out[id];
    ShapeResult r = inferNodeType(out, n);
    if (r.error.empty() && r.type.known)
      r.error = tensorSizeError(r.type.dims);
    if (r.error.empty()) {
      n.type = r.type;
      continue;
    }
    failed = true;
    diags.error(n.loc, r.error);
    if (!r.help.empty())
      diags.help(n.loc, r.help);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      NodeId in = n.inputs[i];
      if (in < 0 || in >= out.size() || !out[in].loc.valid())
        continue;
      std::string which = n.inputs.size() == 1 ? "operand"
                          : i == 0             ? "left operand"
                                               : "right operand";
      diags.note(out[in].loc, which + " has type " + out[in].type.str());
    }
    if (!hasTrait(n.op, kLeaf))
      n.type = TensorType{};
  }
  if (failed)
    throw DiagnosedError();
  return out;
}

} // namespace nn
