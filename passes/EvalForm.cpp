//===- EvalForm.cpp - The graph evaluation runs ---------------------------===//
///
/// \file
/// Algorithm: strip dropout (passes/StripDropout.cpp). Then copy the nodes
/// in order into a new graph; in place of each batch_normalize(x, rm, rv)
/// (eps = Node::param) append, with its location,
///   s = 1 / sqrt(rv + eps),  t = -rm * s   (elementwise on [C] vectors)
///   channel_affine(x, s, t)                (x * s[c] + t[c])
/// which is (x - rm) / sqrt(rv + eps), PyTorch's eval-mode batch norm
/// before its own weight and bias (a channel_affine that follows). Uses and
/// outputs are renumbered; the updates (the running statistics of training)
/// are dropped, and dce removes the nodes only they read. Last, the two
/// affines in a row (the running statistics', then batch norm's weight and
/// bias) merge into one (passes/MergeAffines.cpp), which fusion can fold
/// into a convolution before it (passes/FuseConv.cpp).
///
//===----------------------------------------------------------------------===//

#include "passes/EvalForm.h"
#include "passes/Builder.h"
#include "passes/DCE.h"
#include "passes/MergeAffines.h"
#include "passes/StripDropout.h"

namespace nn {

namespace {

/// `name` + `suffix`, or "" for an unnamed node.
std::string derivedName(const std::string &name, const char *suffix) {
  return name.empty() ? "" : name + suffix;
}

} // namespace

Graph evalForm(const Graph &g) {
  Graph src = stripDropout(g);
  bool anyNorm = false;
  for (const Node &n : src.nodes)
    anyNorm = anyNorm || n.op == OpKind::BatchNormalize;
  if (!anyNorm && src.updates.empty())
    return src;

  Graph out;
  out.name = src.name;
  Builder b(out);
  std::vector<NodeId> newId(src.nodes.size(), -1);
  for (NodeId id = 0; id < src.size(); ++id) {
    Node n = src[id];
    for (NodeId &in : n.inputs)
      in = newId[in];
    if (n.op != OpKind::BatchNormalize) {
      newId[id] = out.add(std::move(n));
      continue;
    }
    b.loc = n.loc;
    const NodeId x = n.inputs[0], rm = n.inputs[1], rv = n.inputs[2];
    NodeId root = b.unary(
        OpKind::Sqrt, b.binary(OpKind::Add, rv, b.constant(n.param, "eps")));
    NodeId s = b.binary(OpKind::Div, b.constant(1.0), root,
                        derivedName(n.name, ".scale"));
    NodeId t = b.binary(OpKind::Mul, b.unary(OpKind::Neg, rm), s,
                        derivedName(n.name, ".shift"));
    newId[id] = b.op(OpKind::ChannelAffine, {x, s, t}, n.name);
  }
  for (const Output &o : src.outputs)
    out.outputs.push_back({o.name, newId[o.node]});
  return mergeChannelAffines(dce(out));
}

} // namespace nn
