//===- Autodiff.cpp - Reverse-mode differentiation ------------------------===//
///
/// \file
/// Algorithm: mark the nodes that lie on a path from a Param to the output
/// "loss". Seed d.loss = 1, then walk the forward nodes in reverse order;
/// each marked node sums the gradient contributions its users left for it
/// (one Add per extra use) and applies its op's rule (one complete switch)
/// to leave contributions for its own marked operands. A contribution to a
/// broadcast operand is summed back to that operand's shape. Finally either
/// expose each parameter's gradient as an output "grad.<param>", or append
/// the SGD update (PyTorch semantics).
///
//===----------------------------------------------------------------------===//

#include "passes/Autodiff.h"
#include "passes/GraphUtil.h"
#include "passes/Builder.h"

#include "ir/Support.h"

#include <map>

namespace nn {

namespace {

class Differentiator {
public:
  explicit Differentiator(Graph &g) : g(g), b(g), numForward(g.size()) {}

  void run(const OptimizerSpec *opt);

private:
  Graph &g;
  Builder b;
  NodeId numForward;
  std::vector<bool> marked;
  /// Gradient contributions per forward node, in the order they were made.
  std::map<NodeId, std::vector<NodeId>> contribs;
  /// The summed gradient of each forward node that has one.
  std::map<NodeId, NodeId> grads;

  TensorType type(NodeId id) const { return g[id].type; }
  NodeId add(OpKind k, NodeId a, NodeId c) { return b.binary(k, a, c); }
  NodeId un(OpKind k, NodeId a) { return b.unary(k, a); }

  void markNodes(NodeId loss);
  NodeId sumContributions(NodeId id);
  void contribute(NodeId operand, NodeId grad);
  void applyRule(NodeId id, NodeId dy);

  NodeId reshapeLike(NodeId v, NodeId like);
  NodeId unbroadcast(NodeId v, NodeId like);
  NodeId expandAlong(NodeId v, NodeId like, int64_t axis);
  NodeId scaleByLoss(NodeId v, NodeId dL, NodeId count);
  void addUpdates(const OptimizerSpec &opt);
};

/// The name of the gradient of node `n`, or "" when `n` has no name.
std::string gradName(const Node &n) {
  return n.name.empty() ? "" : "d." + n.name;
}

void Differentiator::markNodes(NodeId loss) {
  marked = differentiatedNodes(g, loss, numForward);
}

void Differentiator::contribute(NodeId operand, NodeId grad) {
  if (!marked[operand])
    return;
  NN_ASSERT(type(grad).dims == type(operand).dims,
            "gradient of node " + std::to_string(operand) + " has type " +
                type(grad).str() + ", expected " + type(operand).str());
  contribs[operand].push_back(grad);
}

NodeId Differentiator::sumContributions(NodeId id) {
  const std::vector<NodeId> &cs = contribs[id];
  NN_ASSERT(!cs.empty(), "marked node without gradient");
  b.loc = g[id].loc;
  NodeId sum = cs[0];
  for (size_t i = 1; i < cs.size(); ++i)
    sum = add(OpKind::Add, sum, cs[i]);
  // Name the gradient after its node, unless it is shared with another.
  Node &s = g[sum];
  if (sum >= numForward && s.name.empty())
    s.name = gradName(g[id]);
  return sum;
}

/// `v` with the same elements arranged in `like`'s shape: [n] <-> [n,1],
/// [k] -> [1,k]. Expand and Transpose do it, as there is no reshape op.
NodeId Differentiator::reshapeLike(NodeId v, NodeId like) {
  const std::vector<int64_t> vd = type(v).dims, ld = type(like).dims;
  if (vd == ld)
    return v;
  if (ld.size() == vd.size() + 1 && ld[0] == 1 &&
      std::equal(vd.begin(), vd.end(), ld.begin() + 1))
    return b.binary(OpKind::Expand, v, like); // [k] -> [1,k]
  if (ld.size() == 2 && vd.size() == 1 && ld[1] == 1 && ld[0] == vd[0])
    // [n] -> [1,n] -> [n,1]
    return un(OpKind::Transpose,
              add(OpKind::Expand, v, un(OpKind::Transpose, like)));
  if (vd.size() == 2 && ld.size() == 1 && vd[1] == 1 && vd[0] == ld[0])
    return b.op(OpKind::Sum, {v}, "", 1); // [n,1] -> [n]
  throw UserError(g[like].loc.str() + (g[like].loc.valid() ? ": " : "") +
                  "error: autodiff cannot reshape " + type(v).str() + " to " +
                  type(like).str());
}

/// Sums `v` (a broadcast result) back to the shape of `like`.
NodeId Differentiator::unbroadcast(NodeId v, NodeId like) {
  const TensorType target = type(like);
  if (type(v).dims == target.dims)
    return v;
  if (target.isScalar())
    return b.op(OpKind::Sum, {v}, "", -1);
  // Leading axes that broadcasting added.
  while (type(v).rank() > target.rank())
    v = b.op(OpKind::Sum, {v}, "", 0);
  // Axes where `like` has 1 and the result has more.
  for (int64_t ax = target.rank() - 1; ax >= 0; --ax)
    if (target.dims[ax] == 1 && type(v).dims[ax] != 1) {
      v = b.op(OpKind::Sum, {v}, "", ax);
      v = reshapeLike(v, like);
    }
  return v;
}

/// Broadcasts `v`, a reduction of `like` over `axis`, back to `like`'s shape.
NodeId Differentiator::expandAlong(NodeId v, NodeId like, int64_t axis) {
  int64_t rank = type(like).rank();
  if (axis == -1 || axis == 0)
    return add(OpKind::Expand, v, like); // trailing dimensions line up
  if (axis == 1 && rank == 2)
    // [m] -> [n,m] -> [m,n]
    return un(OpKind::Transpose,
              add(OpKind::Expand, v, un(OpKind::Transpose, like)));
  throw UserError(g[like].loc.str() + (g[like].loc.valid() ? ": " : "") +
                  "error: autodiff supports reductions over axis 0 or the "
                  "last axis of a matrix, not axis " +
                  std::to_string(axis) + " of " + type(like).str());
}

/// v * (dL / count).
NodeId Differentiator::scaleByLoss(NodeId v, NodeId dL, NodeId count) {
  return add(OpKind::Mul, v, add(OpKind::Div, dL, count));
}

void Differentiator::applyRule(NodeId id, NodeId dy) {
  const Node &n = g[id];
  b.loc = n.loc;
  // Copies: appending nodes may move g's storage.
  const std::vector<NodeId> in = n.inputs;
  const OpKind op = n.op;
  const int64_t axis = n.axis;
  NodeId a = in.empty() ? -1 : in[0];
  NodeId c = in.size() < 2 ? -1 : in[1];
  auto wants = [&](NodeId x) { return x >= 0 && marked[x]; };

  switch (op) {
  // Leaves end the walk.
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
    return;

  // d/da -a = -1
  case OpKind::Neg:
    contribute(a, un(OpKind::Neg, dy));
    return;
  // d/da exp(a) = exp(a): reuse the forward node
  case OpKind::Exp:
    contribute(a, add(OpKind::Mul, dy, id));
    return;
  // d/da log(a) = 1/a
  case OpKind::Log:
    contribute(a, add(OpKind::Div, dy, a));
    return;
  // d/da sigmoid(a) = s*(1-s), s the forward sigmoid
  case OpKind::Sigmoid: {
    NodeId oneMinus = add(OpKind::Sub, b.constant(1.0), id);
    contribute(a, add(OpKind::Mul, dy, add(OpKind::Mul, id, oneMinus)));
    return;
  }
  // d/da relu(a) = step(a)
  case OpKind::Relu:
    contribute(a, add(OpKind::Mul, dy, un(OpKind::Step, a)));
    return;
  // d/da tanh(a) = 1 - t*t, t the forward tanh
  case OpKind::Tanh: {
    NodeId tt = add(OpKind::Mul, id, id);
    contribute(a, add(OpKind::Mul, dy, add(OpKind::Sub, b.constant(1.0), tt)));
    return;
  }
  // d/da step(a) = 0 (almost everywhere): nothing flows back
  case OpKind::Step:
    return;

  // d/da a+b = 1, d/db a+b = 1 (summed back over broadcast axes)
  case OpKind::Add:
    if (wants(a))
      contribute(a, unbroadcast(dy, a));
    if (wants(c))
      contribute(c, unbroadcast(dy, c));
    return;
  // d/da a-b = 1, d/db a-b = -1
  case OpKind::Sub:
    if (wants(a))
      contribute(a, unbroadcast(dy, a));
    if (wants(c))
      contribute(c, unbroadcast(un(OpKind::Neg, dy), c));
    return;
  // d/da a*b = b, d/db a*b = a;  d/da a*a = 2a
  case OpKind::Mul:
    if (a == c) {
      NodeId twice = add(OpKind::Mul, b.constant(2.0), a);
      contribute(a, unbroadcast(add(OpKind::Mul, dy, twice), a));
      return;
    }
    if (wants(a))
      contribute(a, unbroadcast(add(OpKind::Mul, dy, c), a));
    if (wants(c))
      contribute(c, unbroadcast(add(OpKind::Mul, dy, a), c));
    return;
  // d/da a/b = 1/b, d/db a/b = -a/b^2 = -(a/b)/b
  case OpKind::Div:
    if (wants(a))
      contribute(a, unbroadcast(add(OpKind::Div, dy, c), a));
    if (wants(c)) {
      NodeId q = add(OpKind::Div, add(OpKind::Mul, dy, id), c);
      contribute(c, unbroadcast(un(OpKind::Neg, q), c));
    }
    return;

  // Y = A @ B: dA = dY @ B^T, dB = A^T @ dY
  // y = A @ b (b a vector): dA[i,j] = dy[i] * b[j], dB = A^T @ dy
  case OpKind::MatMul:
    if (wants(a)) {
      if (type(c).rank() == 2) {
        contribute(a, add(OpKind::MatMul, dy, un(OpKind::Transpose, c)));
      } else {
        NodeId rows = expandAlong(dy, a, 1); // dy[i] along each row
        contribute(a, add(OpKind::Mul, rows, c));
      }
    }
    if (wants(c))
      contribute(c, add(OpKind::MatMul, un(OpKind::Transpose, a), dy));
    return;
  // d/dA A^T = the transpose of dY
  case OpKind::Transpose:
    contribute(a, un(OpKind::Transpose, dy));
    return;
  // expand(a, s) copies a along broadcast axes: summed back; s gives a shape
  case OpKind::Expand:
    if (wants(a))
      contribute(a, unbroadcast(dy, a));
    return;

  // d/da sum(a) = 1 for each element: dy broadcast back
  case OpKind::Sum:
    contribute(a, expandAlong(dy, a, axis));
    return;
  // d/da mean(a) = 1/count for each element
  case OpKind::Mean: {
    NodeId count = b.op(OpKind::Count, {a}, "", axis);
    contribute(a, expandAlong(add(OpKind::Div, dy, count), a, axis));
    return;
  }
  // count does not depend on the values
  case OpKind::Count:
    return;

  // y = softmax(a): da = y * (dy - sum(dy * y) over the last axis)
  case OpKind::Softmax: {
    int64_t last = type(a).rank() - 1;
    NodeId dot = b.op(OpKind::Sum, {add(OpKind::Mul, dy, id)}, "",
                      last == 0 ? -1 : last);
    NodeId back = expandAlong(dot, a, last == 0 ? -1 : last);
    contribute(a, add(OpKind::Mul, id, add(OpKind::Sub, dy, back)));
    return;
  }
  // class ids are not differentiable
  case OpKind::OneHot:
    return;

  // L = -mean(y log p + (1-y) log(1-p)):
  //   dL/dp = (p - y) / (p (1 - p)) / count(p)
  //   dL/dy = (log(1-p) - log(p)) / count(p)
  case OpKind::Bce: {
    NodeId count = b.op(OpKind::Count, {a}, "", -1);
    if (wants(a)) {
      NodeId diff = add(OpKind::Sub, a, reshapeLike(c, a));
      NodeId oneMinus = add(OpKind::Sub, b.constant(1.0), a);
      NodeId q = add(OpKind::Div, diff, add(OpKind::Mul, a, oneMinus));
      contribute(a, scaleByLoss(q, dy, count));
    }
    if (wants(c)) {
      NodeId oneMinus = add(OpKind::Sub, b.constant(1.0), a);
      NodeId d = add(OpKind::Sub, un(OpKind::Log, oneMinus), un(OpKind::Log, a));
      contribute(c, reshapeLike(scaleByLoss(d, dy, count), c));
    }
    return;
  }
  // L = mean(softplus(z) - y z): dL/dz = (sigmoid(z) - y) / count(z),
  //   dL/dy = -z / count(z)
  case OpKind::BceLogits: {
    NodeId count = b.op(OpKind::Count, {a}, "", -1);
    if (wants(a)) {
      NodeId diff =
          add(OpKind::Sub, un(OpKind::Sigmoid, a), reshapeLike(c, a));
      contribute(a, scaleByLoss(diff, dy, count));
    }
    if (wants(c))
      contribute(c, reshapeLike(scaleByLoss(un(OpKind::Neg, a), dy, count), c));
    return;
  }
  // L = -mean over the batch of log p[i, y_i]:
  //   dL/dp = -onehot(y) / p / count over the batch
  case OpKind::CrossEntropy: {
    NodeId count = b.op(OpKind::Count, {a}, "", 0);
    NodeId hot = b.oneHot(c, type(a).dims[1]);
    NodeId q = un(OpKind::Neg, add(OpKind::Div, hot, a));
    contribute(a, scaleByLoss(q, dy, count));
    return;
  }
  // L = mean over the batch of logsumexp(z) - z[i, y_i]:
  //   dL/dz = (softmax(z) - onehot(y)) / count over the batch
  case OpKind::SoftmaxCrossEntropy: {
    NodeId count = b.op(OpKind::Count, {a}, "", 0);
    NodeId hot = b.oneHot(c, type(a).dims[1]);
    NodeId diff = add(OpKind::Sub, un(OpKind::Softmax, a), hot);
    contribute(a, scaleByLoss(diff, dy, count));
    return;
  }
  // L = mean((p - y)^2): dL/dp = 2 (p - y) / count(p), dL/dy = -dL/dp
  case OpKind::Mse: {
    NodeId count = b.op(OpKind::Count, {a}, "", -1);
    NodeId diff = add(OpKind::Sub, a, reshapeLike(c, a));
    NodeId two = add(OpKind::Mul, b.constant(2.0), diff);
    NodeId dp = scaleByLoss(two, dy, count);
    if (wants(a))
      contribute(a, dp);
    if (wants(c))
      contribute(c, reshapeLike(un(OpKind::Neg, dp), c));
    return;
  }
  // Fusion runs after autodiff: fused ops never need a gradient rule.
  case OpKind::Dense:
  case OpKind::FusedMatMul:
  case OpKind::DenseGradInput:
  case OpKind::DenseGradWeight:
  case OpKind::DenseGradBias:
  case OpKind::SoftmaxXentGrad:
  case OpKind::SigmoidBceGrad:
  case OpKind::SgdMomentum:
  case OpKind::Sgd:
  case OpKind::Elementwise:
    NN_UNREACHABLE(std::string("no gradient rule for fused op ") +
                   mnemonic(op));
  }
  NN_UNREACHABLE("bad OpKind");
}

void Differentiator::addUpdates(const OptimizerSpec &opt) {
  NodeId lr = -1, mu = -1;
  for (NodeId p : g.leaves(OpKind::Param)) {
    if (p >= numForward || !grads.count(p))
      continue; // no path to the loss: no update
    NodeId grad = grads[p];
    const std::string name = g[p].name;
    b.loc = g[p].loc;
    if (lr < 0) {
      lr = b.constant(opt.lr, "lr");
      if (opt.momentum != 0)
        mu = b.constant(opt.momentum, "momentum");
    }
    NodeId step = grad;
    if (opt.momentum != 0) {
      // v' = momentum * v + g
      Node v = makeNode(OpKind::State, {}, g[p].loc);
      v.name = "optimizer." + name + ".momentum";
      v.type = g[p].type;
      NodeId vId = g.add(std::move(v));
      step = b.binary(OpKind::Add, b.binary(OpKind::Mul, mu, vId), grad,
                      "new." + g[vId].name);
      g.updates.push_back({vId, step});
    }
    // w' = w - lr * step
    NodeId w = b.binary(OpKind::Sub, p, b.binary(OpKind::Mul, lr, step),
                        "new." + name);
    g.updates.push_back({p, w});
  }
}

void Differentiator::run(const OptimizerSpec *opt) {
  std::optional<NodeId> lossId = g.output("loss");
  if (!lossId)
    throw UserError("error: the graph has no output 'loss' to differentiate");
  NodeId loss = *lossId;
  if (!type(loss).known || !type(loss).isScalar()) {
    const SrcLoc &l = g[loss].loc;
    throw UserError((l.valid() ? l.str() + ": " : std::string()) +
                    "error: the loss must be a scalar, got " +
                    type(loss).str());
  }
  markNodes(loss);
  b.loc = g[loss].loc;
  std::string seedName = g[loss].name.empty() ? "d.loss" : gradName(g[loss]);
  contribs[loss].push_back(b.constant(1.0, seedName)); // dL/dL = 1
  for (NodeId id = loss; id >= 0; --id) {
    if (!marked[id] || contribs[id].empty())
      continue;
    NodeId dy = sumContributions(id);
    grads[id] = dy;
    applyRule(id, dy);
  }
  if (opt) {
    addUpdates(*opt);
    return;
  }
  for (NodeId p : g.leaves(OpKind::Param))
    if (p < numForward && grads.count(p))
      g.outputs.push_back({"grad." + g[p].name, grads[p]});
}

} // namespace

Graph differentiate(const Graph &g, const OptimizerSpec *opt) {
  Graph out = g;
  Differentiator(out).run(opt);
  return out;
}

} // namespace nn
