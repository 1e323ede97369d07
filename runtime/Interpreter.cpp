//===- Interpreter.cpp - The reference interpreter ------------------------===//
///
/// \file
/// Binds the leaves, then evaluates node after node through one dispatch:
/// `switch (family(op))`, then the family's own enum. The naive loops live
/// in runtime/InterpKernels.h; the scalar math of elementwise ops, updates
/// and loss terms comes from ir/ElementwiseMath.h and ir/FusedMath.h,
/// shared with the code generators.
///
//===----------------------------------------------------------------------===//

#include "runtime/Interpreter.h"

#include "runtime/InterpKernels.h"

#include "ir/Format.h"
#include "ir/Support.h"

#include <optional>

namespace nn {

Value toValue(const Tensor &t) {
  Value v;
  v.shape = t.shape;
  v.data.assign(t.data.begin(), t.data.end());
  return v;
}

Tensor toTensor(const Value &v) {
  Tensor t;
  t.shape = v.shape;
  t.data.reserve(v.data.size());
  for (double d : v.data)
    t.data.push_back(static_cast<float>(d));
  return t;
}

namespace {

using interp::Args;
using interp::numelOf;
using interp::Shape;
using interp::userError;

/// The dims of `t` with the batch dimension set to `batch`.
Shape concreteDims(const TensorType &t, int64_t batch) {
  Shape s = t.dims;
  for (int64_t &d : s)
    if (d == kBatch)
      d = batch;
  return s;
}

/// What kind of leaf a node is, for messages: "input 'x'".
std::string leafDesc(const Node &n) {
  return std::string(mnemonic(n.op)) + " '" + n.name + "'";
}

/// What one evaluation knows besides the node and its operands.
struct Context {
  const Graph &g;
  const ValueMap &leaves;
  int64_t batch;
};

/// The value bound to leaf `n`, checked against its type.
Value boundLeaf(const Context &c, const Node &n) {
  auto it = c.leaves.find(n.name);
  if (it == c.leaves.end())
    userError(n, "no value given for " + leafDesc(n));
  const Value &v = it->second;
  Shape want = concreteDims(n.type, c.batch);
  if (v.shape != want)
    userError(n, "value for " + leafDesc(n) + " has shape " +
                     shapeStr(v.shape) + " but its type " + n.type.str() +
                     " needs " + shapeStr(want));
  if (v.numel() != numelOf(want))
    userError(n, "value for " + leafDesc(n) + " has " +
                     std::to_string(v.numel()) + " elements but shape " +
                     shapeStr(want) + " needs " +
                     std::to_string(numelOf(want)));
  return v;
}

/// A Const node's values, a single value filling its shape.
Value constValue(const Context &c, const Node &n) {
  Shape s = n.type.known ? concreteDims(n.type, c.batch)
            : n.values.size() == 1
                ? Shape{}
                : Shape{static_cast<int64_t>(n.values.size())};
  int64_t k = numelOf(s);
  NN_ASSERT(n.values.size() == 1 || static_cast<int64_t>(n.values.size()) == k,
            "const has " + std::to_string(n.values.size()) +
                " values for shape " + shapeStr(s));
  return {s, n.values.size() == 1
                 ? std::vector<double>(static_cast<size_t>(k), n.values[0])
                 : n.values};
}

Value leaf(LeafOp op, const Context &c, const Node &n) {
  switch (op) {
  case LeafOp::Input:
  case LeafOp::Label:
  case LeafOp::Param:
  case LeafOp::State:
    return boundLeaf(c, n);
  case LeafOp::Const:
    return constValue(c, n);
  }
  NN_UNREACHABLE("bad LeafOp");
}

/// The value of node `n` on operand values `in`: the one dispatch, by
/// family, then by the family's own enum (runtime/InterpKernels.h).
Value evalNode(const Context &c, const Node &n, const Args &in) {
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return leaf(member<LeafOp>(n.op), c, n);
  case OpFamily::Elementwise:
    return interp::elementwise(member<ElementwiseOp>(n.op), in, n.param);
  case OpFamily::Linalg:
    return interp::linalg(member<LinalgOp>(n.op), n, in);
  case OpFamily::Reduce:
    return interp::reduction(member<ReduceOp>(n.op), n, in);
  case OpFamily::Rows:
    return interp::rows(member<RowsOp>(n.op), c.g, n, in);
  case OpFamily::Spatial:
    return interp::spatial(member<SpatialOp>(n.op), n, in);
  case OpFamily::Random:
    return interp::random(member<RandomOp>(n.op), n, in);
  case OpFamily::Loss:
    return interp::loss(member<LossOp>(n.op), c.g, n, in);
  case OpFamily::Dense:
    return interp::dense(member<DenseOp>(n.op), n, in);
  case OpFamily::LossGrad:
    return interp::lossGrad(member<LossGradOp>(n.op), c.g, n, in);
  case OpFamily::Update:
    return interp::update(member<UpdateOp>(n.op), in);
  case OpFamily::FusedElementwise:
    return interp::fusedElementwise(n.body, in);
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// The batch size, from the bound inputs and labels that `needed` marks
/// (all must agree); 1 when none is batched.
int64_t batchSize(const Graph &g, const ValueMap &leaves,
                  const std::vector<bool> &needed) {
  int64_t batch = -1;
  const Node *batchFrom = nullptr;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (!needed[id] || (n.op != OpKind::Input && n.op != OpKind::Label))
      continue;
    auto it = leaves.find(n.name);
    if (it == leaves.end())
      userError(n, "no value given for " + leafDesc(n));
    if (!n.type.hasBatch() || it->second.shape.empty())
      continue;
    int64_t rows = it->second.shape[0];
    if (batchFrom && rows != batch)
      userError(n, leafDesc(n) + " has " + std::to_string(rows) +
                       " rows but " + leafDesc(*batchFrom) + " has " +
                       std::to_string(batch));
    batch = rows;
    batchFrom = &n;
  }
  return batch < 0 ? 1 : batch; // no batched leaf: N appears nowhere
}

} // namespace

Interpreter::Interpreter(const Graph &graph) : g(graph) {
  for (const Node &n : g.nodes)
    NN_ASSERT(!hasTrait(n.op, kLeaf) || n.op == OpKind::Const || n.type.known,
              "interpreter: leaf '" + n.name + "' has no known type");
}

std::vector<Value> Interpreter::run(const ValueMap &leaves) const {
  return evaluate(leaves, std::vector<bool>(g.nodes.size(), true));
}

std::vector<Value> Interpreter::run(const ValueMap &leaves,
                                    const std::vector<NodeId> &roots) const {
  std::vector<bool> needed(g.nodes.size(), false);
  for (NodeId r : roots) {
    NN_ASSERT(r >= 0 && r < g.size(), "root out of range");
    needed[r] = true;
  }
  for (NodeId id = g.size(); id-- > 0;)
    if (needed[id])
      for (NodeId in : g[id].inputs)
        needed[in] = true;
  return evaluate(leaves, needed);
}

ValueMap Interpreter::outputs(const ValueMap &leaves,
                              const std::vector<std::string> &names) const {
  std::vector<NodeId> roots;
  for (const std::string &name : names) {
    std::optional<NodeId> id = g.output(name);
    if (!id)
      throw UserError("error: the graph has no output '" + name + "'");
    roots.push_back(*id);
  }
  std::vector<Value> vals = run(leaves, roots);
  ValueMap r;
  for (size_t i = 0; i < names.size(); ++i)
    r[names[i]] = vals[roots[i]];
  return r;
}

std::vector<Value> Interpreter::evaluate(const ValueMap &leaves,
                                         const std::vector<bool> &needed) const {
  Context c{g, leaves, batchSize(g, leaves, needed)};
  std::vector<Value> vals(g.nodes.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!needed[id])
      continue;
    const Node &n = g[id];
    Args args;
    for (NodeId i : n.inputs)
      args.push_back(&vals[i]);
    vals[id] = evalNode(c, n, args);
    if (n.type.known) {
      Shape want = concreteDims(n.type, c.batch);
      NN_ASSERT(vals[id].shape == want,
                "interpreter: node %" + std::to_string(id) + " (" +
                    mnemonic(n.op) + ") computed shape " +
                    shapeStr(vals[id].shape) + " but its type is " +
                    n.type.str());
    }
  }
  return vals;
}

Interpreter::Result Interpreter::step(const ValueMap &leaves) const {
  std::vector<Value> vals = run(leaves);
  Result r;
  for (const Output &o : g.outputs)
    r.outputs[o.name] = vals[o.node];
  for (const Update &u : g.updates)
    r.updates[g[u.target].name] = vals[u.value];
  return r;
}

} // namespace nn
