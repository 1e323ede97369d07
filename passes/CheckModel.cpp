//===- CheckModel.cpp - What a typed model must also satisfy --------------===//
///
/// \file
/// Algorithm: three walks over the typed forward graph.
///  1. Batch broadcasting: an elementwise operator whose batched operand
///     (f32[N,...]) has a lower rank than the result would align the batch
///     axis with another axis (f32[N,1] - f32[N] is f32[N,N]): an error.
///  2. Batch mixing: the per-sample region is every node that an output other
///     than "loss" or an operand of a loss function reads. A reduction over
///     the batch axis, or a softmax of a batched vector f32[N], there makes
///     one sample's prediction depend on the others: an error. In the loss's
///     own arithmetic (`loss mse(p, y) + mean(...)`) it is allowed.
///  3. Training: the loss is a scalar, and every node autodiff will
///     differentiate (fed by a param, read by the loss) has a gradient rule
///     for its shapes (Autodiff.cpp's reshapeLike, unbroadcast and
///     expandAlong; the same conditions here), and is an op autodiff
///     differentiates (not a gradient op nor a running statistic).
///
//===----------------------------------------------------------------------===//

#include "passes/CheckModel.h"
#include "passes/GraphUtil.h"

#include "ir/Support.h"

#include <algorithm>

namespace nn {

namespace {

using Dims = std::vector<int64_t>;

/// The .nn operator that writes an op, else its mnemonic (for messages).
const char *spelling(OpKind op) {
  static const std::pair<OpKind, const char *> kInfix[] = {{OpKind::Add, "+"},
                                                           {OpKind::Sub, "-"},
                                                           {OpKind::Mul, "*"},
                                                           {OpKind::Div, "/"}};
  for (const auto &[k, text] : kInfix)
    if (k == op)
      return text;
  return mnemonic(op);
}

/// Autodiff's reshapeLike: [n] <-> [n,1], [k] -> [1,k].
bool canReshape(const Dims &v, const Dims &like) {
  if (v == like)
    return true;
  if (like.size() == v.size() + 1 && like[0] == 1 &&
      std::equal(v.begin(), v.end(), like.begin() + 1))
    return true;
  if (like.size() == 2 && v.size() == 1 && like[1] == 1 && like[0] == v[0])
    return true;
  return v.size() == 2 && like.size() == 1 && v[1] == 1 && v[0] == like[0];
}

/// Autodiff's unbroadcast of a gradient shaped `result` back to `target`.
bool canUnbroadcast(Dims v, const Dims &target) {
  if (v == target || target.empty())
    return true;
  while (v.size() > target.size())
    v.erase(v.begin());
  for (int64_t ax = static_cast<int64_t>(target.size()) - 1; ax >= 0; --ax) {
    if (target[ax] != 1 || v[ax] == 1)
      continue;
    v.erase(v.begin() + ax);
    if (!canReshape(v, target))
      return false;
    v = target;
  }
  return true;
}

/// Autodiff's expandAlong: all axes, axis 0, or axis 1 of a matrix.
bool canExpandAlong(int64_t axis, int64_t rank) {
  return axis == -1 || axis == 0 || (axis == 1 && rank == 2);
}

/// A reduction over the batch axis, or a softmax across the batch.
bool mixesBatch(const Graph &g, const Node &n) {
  if (n.inputs.empty() || !g[n.inputs[0]].type.known)
    return false;
  const TensorType &t = g[n.inputs[0]].type;
  if (!t.hasBatch())
    return false;
  switch (family(n.op)) {
  case OpFamily::Reduce:
    switch (member<ReduceOp>(n.op)) {
    case ReduceOp::Sum:
    case ReduceOp::Mean:
      return n.axis == -1 || n.axis == 0;
    case ReduceOp::Count:
      return false;
    }
    NN_UNREACHABLE("bad ReduceOp");
  case OpFamily::Rows:
    switch (member<RowsOp>(n.op)) {
    case RowsOp::Softmax:
    case RowsOp::Normalize:
    case RowsOp::NormalizeGrad:
      return t.rank() == 1; // over the last axis, the batch
    case RowsOp::OneHot:
      return false;
    }
    NN_UNREACHABLE("bad RowsOp");
  case OpFamily::Leaf:
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Random:
  // Per sample, or (batch norm) mixing the batch by design.
  case OpFamily::Spatial:
  case OpFamily::Loss:
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return false;
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// Why autodiff's gradient rule of a reduction cannot handle `n`, or "".
std::string reduceGradProblem(const Node &n, const TensorType &x) {
  switch (member<ReduceOp>(n.op)) {
  case ReduceOp::Sum:
  case ReduceOp::Mean:
    if (!canExpandAlong(n.axis, x.rank()))
      return "supports reductions over all axes, axis 0, or axis 1 of a "
             "matrix, not axis " +
             std::to_string(n.axis) + " of " + x.str();
    return "";
  case ReduceOp::Count:
    return "";
  }
  NN_UNREACHABLE("bad ReduceOp");
}

/// Why autodiff's gradient rule of softmax or onehot cannot handle `n`.
std::string rowsGradProblem(const Node &n, const TensorType &x) {
  switch (member<RowsOp>(n.op)) {
  case RowsOp::Softmax: {
    int64_t last = x.rank() - 1;
    if (!canExpandAlong(last == 0 ? -1 : last, last + 1))
      return "supports softmax of vectors and matrices, not of " + x.str();
    return "";
  }
  case RowsOp::OneHot:
  case RowsOp::Normalize:
  case RowsOp::NormalizeGrad:
    return "";
  }
  NN_UNREACHABLE("bad RowsOp");
}

/// Why autodiff's gradient rule of a loss cannot handle `n`.
std::string lossGradProblem(const Node &n, const TensorType &p,
                            const TensorType &y) {
  switch (member<LossOp>(n.op)) {
  case LossOp::Bce:
  case LossOp::BceLogits:
  case LossOp::Mse:
    if (!canReshape(y.dims, p.dims) || !canReshape(p.dims, y.dims))
      return "cannot match targets " + y.str() + " to predictions " + p.str();
    return "";
  case LossOp::CrossEntropy:
  case LossOp::SoftmaxCrossEntropy:
    return "";
  }
  NN_UNREACHABLE("bad LossOp");
}

/// Why autodiff's gradient rule of a spatial op cannot handle `n`
/// (passes/grad/SpatialGrad.cpp), or "".
std::string spatialGradProblem(const Node &n) {
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d:
    if (n.act != Activation::None)
      return "does not differentiate a conv2d with a fused activation";
    return "";
  case SpatialOp::MaxPool2d:
  case SpatialOp::AvgPool2d:
  case SpatialOp::ChannelAffine:
  case SpatialOp::BatchNormalize:
    return "";
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::ChannelSum:
  case SpatialOp::BatchNormalizeGrad:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad:
    return "does not differentiate a gradient op (nnc differentiates once)";
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    return "does not differentiate batch norm's running statistics";
  }
  NN_UNREACHABLE("bad SpatialOp");
}

class ModelChecker {
public:
  ModelChecker(const Graph &g, DiagEngine &diags) : g(g), diags(diags) {}

  /// Node by node (so errors come in source order), then the loss.
  void run() {
    std::vector<bool> region = perSampleRegion();
    std::optional<NodeId> loss = g.output("loss");
    std::vector<bool> marked =
        loss ? differentiated(*loss) : std::vector<bool>(g.size(), false);
    for (NodeId id = 0; id < g.size(); ++id) {
      checkBroadcast(id);
      if (region[id])
        checkMixing(id);
      if (marked[id])
        checkGradient(id, marked);
    }
    if (loss)
      checkLossIsScalar(g[*loss]);
  }

private:
  const Graph &g;
  DiagEngine &diags;

  const TensorType &type(NodeId id) const { return g[id].type; }

  void operandNotes(const Node &n) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Node &in = g[n.inputs[i]];
      if (!in.loc.valid())
        continue;
      std::string which = n.inputs.size() == 1 ? "operand"
                          : i == 0             ? "left operand"
                                               : "right operand";
      diags.note(in.loc, which + " has type " + in.type.str());
    }
  }

  void checkBroadcast(NodeId id) {
    const Node &n = g[id];
    if (family(n.op) != OpFamily::Elementwise || !n.type.known)
      return;
    for (NodeId in : n.inputs) {
      const TensorType &t = type(in);
      if (!t.known || !t.hasBatch() || t.rank() == n.type.rank())
        continue;
      const TensorType &a = type(n.inputs[0]), &b = type(n.inputs[1]);
      diags.error(n.loc, std::string("'") + spelling(n.op) +
                             "' would broadcast the batch axis of " + t.str() +
                             " against another axis: " + a.str() + " and " +
                             b.str() + " give " + n.type.str() +
                             ", which pairs every sample with every other");
      operandNotes(n);
      const TensorType &big = &t == &a ? b : a;
      if (big.rank() == 2 && big.dims[1] == 1 && t.rank() == 1)
        diags.help(n.loc, "write 'sum(v, axis = 1)' to turn the " + big.str() +
                              " operand into " + t.str() +
                              ", or give both operands the same shape");
      else
        diags.help(n.loc, "a batched value f32[N,...] combines with one of "
                          "the same rank, a per-sample shape without N, or a "
                          "scalar");
      return;
    }
  }

  /// Nodes whose values are per-sample: read by an output other than
  /// "loss" or by a loss function.
  std::vector<bool> perSampleRegion() const {
    std::vector<bool> region(g.size(), false);
    for (const Output &o : g.outputs)
      if (o.name != "loss")
        region[o.node] = true;
    for (NodeId id = g.size() - 1; id >= 0; --id) {
      const Node &n = g[id];
      if (region[id] || family(n.op) == OpFamily::Loss)
        for (NodeId in : n.inputs)
          region[in] = true;
    }
    return region;
  }

  void checkMixing(NodeId id) {
    const Node &n = g[id];
    if (!mixesBatch(g, n))
      return;
    const TensorType &t = type(n.inputs[0]);
    if (n.op == OpKind::Normalize || n.op == OpKind::NormalizeGrad) {
      diags.error(n.loc, std::string("'") + mnemonic(n.op) + "' of " + t.str() +
                             " normalizes across the samples of a batch");
      diags.help(n.loc, "layer_norm normalizes each sample's features "
                        "f32[N,k] over their last axis");
      return;
    }
    if (family(n.op) == OpFamily::Rows) {
      diags.error(n.loc, "'softmax' of " + t.str() +
                             " normalises across the samples of a batch, so "
                             "a prediction depends on the other samples");
      diags.help(n.loc, "softmax normalises each sample's scores f32[N,k]; "
                        "for one probability per sample use 'sigmoid'");
      return;
    }
    diags.error(n.loc, std::string("'") + mnemonic(n.op) + "' over " +
                           (n.axis == -1 ? "all axes" : "the batch axis") +
                           " of " + t.str() +
                           " mixes the samples of a batch into a per-sample "
                           "value");
    std::string where = "a reduction over the batch belongs in the loss, "
                        "outside the operands of its loss functions";
    diags.help(n.loc, t.rank() >= 2
                          ? "reduce each sample with 'axis = 1'; " + where
                          : where);
  }

  void checkLossIsScalar(const Node &l) {
    if (!l.type.known || l.type.isScalar())
      return;
    diags.error(l.loc, "the loss must be a scalar, got " + l.type.str());
    operandNotes(l);
    diags.help(l.loc, "reduce the other terms with sum(...) or mean(...)");
  }

  /// Autodiff's markNodes: fed by a param and read by the loss.
  std::vector<bool> differentiated(NodeId loss) const {
    return differentiatedNodes(g, loss, g.size());
  }

  /// Why autodiff cannot differentiate `n` (operands typed), or "".
  std::string gradientProblem(const Node &n,
                              const std::vector<bool> &marked) const {
    switch (family(n.op)) {
    case OpFamily::Elementwise: {
      // Each marked operand's gradient is summed back from the result; the
      // last operand that cannot be is named.
      std::string why;
      for (NodeId in : n.inputs)
        if (marked[in] && !canUnbroadcast(n.type.dims, type(in).dims))
          why = "cannot sum its gradient " + n.type.str() + " back to " +
                type(in).str();
      return why;
    }
    case OpFamily::Reduce:
      return reduceGradProblem(n, type(n.inputs[0]));
    case OpFamily::Rows:
      return rowsGradProblem(n, type(n.inputs[0]));
    case OpFamily::Loss:
      return lossGradProblem(n, type(n.inputs[0]), type(n.inputs[1]));
    case OpFamily::Spatial:
      return spatialGradProblem(n);
    case OpFamily::Leaf:
    case OpFamily::Linalg:
    case OpFamily::Random:
    case OpFamily::Dense:
    case OpFamily::LossGrad:
    case OpFamily::Update:
    case OpFamily::FusedElementwise:
      return "";
    }
    NN_UNREACHABLE("bad OpFamily");
  }

  void checkGradient(NodeId id, const std::vector<bool> &marked) {
    const Node &n = g[id];
    if (!n.type.known)
      return;
    for (NodeId in : n.inputs)
      if (!type(in).known)
        return;
    std::string why = gradientProblem(n, marked);
    if (why.empty())
      return;
    diags.error(n.loc, std::string("training cannot differentiate '") +
                           spelling(n.op) + "': autodiff " + why);
    operandNotes(n);
  }
};

} // namespace

void checkModel(const Graph &g, DiagEngine &diags) {
  int before = diags.errorCount();
  ModelChecker(g, diags).run();
  if (diags.errorCount() > before)
    throw DiagnosedError();
}

} // namespace nn
