//===- Verifier.cpp - Structural checks of a Graph ------------------------===//
///
/// \file
/// Algorithm: one pass over the nodes checking each against Ops.def and the
/// nodes before it, then the outputs and updates. Collects every problem
/// instead of stopping at the first.
///
//===----------------------------------------------------------------------===//

#include "ir/Verifier.h"

#include "ir/Attributes.h"
#include "ir/FusedMath.h"
#include "ir/Printer.h"
#include "ir/Support.h"

#include <map>
#include <set>

namespace nn {

namespace {

std::string where(const Graph &g, NodeId id) {
  std::string s = "node " + std::to_string(id) + " (" + mnemonic(g[id].op);
  if (!g[id].name.empty())
    s += " '" + g[id].name + "'";
  return s + ")";
}

bool dimsValid(const TensorType &t) {
  for (int64_t d : t.dims)
    if (d < 0 && d != kBatch)
      return false;
  return true;
}

/// The dense gradients differentiate an activation, never none.
bool needsActivation(OpKind op) {
  return carriesActivation(op) && op != OpKind::Dense;
}

/// The fields only fused ops use: set only where they mean something.
void checkFusedFields(const Graph &g, NodeId id,
                      std::vector<std::string> &errs) {
  const Node &n = g[id];
  if (n.act != Activation::None && !takesActivation(n.op))
    errs.push_back(where(g, id) +
                   ": only fused dense ops, conv2d, its gradients and "
                   "channel_sum have an activation");
  if (n.win != Window{} && !hasWindow(n.op))
    errs.push_back(where(g, id) + ": only convolution and pooling ops have "
                                  "a window");
  if (n.buffer && n.op != OpKind::Param)
    errs.push_back(where(g, id) + ": only a param can be a buffer");
  if (needsActivation(n.op) && n.act == Activation::None)
    errs.push_back(where(g, id) + ": needs an activation (" +
                   activationChoices("or") + ")");
  // The fused backward reads leaky_relu' from its output: slope >= 0.
  if (carriesSlope(n) && !(n.param >= 0))
    errs.push_back(where(g, id) + ": leaky_relu's slope must be >= 0, got " +
                   formatDouble(n.param));
  for (size_t i = 0; i < n.body.size(); ++i)
    if (hasSlope(n.body[i].op) && !(n.body[i].value >= 0))
      errs.push_back(where(g, id) + ": body step " + std::to_string(i) +
                     ": leaky_relu's slope must be >= 0, got " +
                     formatDouble(n.body[i].value));
  if ((n.transA || n.transB) && n.op != OpKind::FusedMatMul)
    errs.push_back(where(g, id) + ": only fused.matmul reads transposed");
  if (n.op == OpKind::Elementwise) {
    std::string e = checkFusedBody(n.body, n.inputs.size());
    if (!e.empty())
      errs.push_back(where(g, id) + ": " + e);
  } else if (!n.body.empty()) {
    errs.push_back(where(g, id) + ": only fused.elementwise has a body");
  }
}

} // namespace

std::vector<std::string> verifyGraph(const Graph &g,
                                     const VerifyOptions &opts) {
  std::vector<std::string> errs;
  std::set<std::pair<OpKind, std::string>> leafNames;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    const OpInfo &info = opInfo(n.op);
    if (info.arity < 0 ? n.inputs.empty()
                       : static_cast<int>(n.inputs.size()) != info.arity)
      errs.push_back(where(g, id) + ": has " +
                     std::to_string(n.inputs.size()) + " operands, expected " +
                     (info.arity < 0 ? std::string("one or more")
                                     : std::to_string(info.arity)));
    checkFusedFields(g, id, errs);
    for (NodeId in : n.inputs)
      if (in < 0 || in >= id)
        errs.push_back(where(g, id) + ": operand " + std::to_string(in) +
                       " does not come before its user");
    if (opts.requireTypes && !n.type.known)
      errs.push_back(where(g, id) + ": type is not known");
    if (n.type.known && !dimsValid(n.type))
      errs.push_back(where(g, id) + ": bad dimension in " +
                     dimsStr(n.type.dims));
    if (hasTrait(n.op, kLeaf) && n.op != OpKind::Const) {
      if (n.name.empty())
        errs.push_back(where(g, id) + ": leaf has no name");
      else if (!leafNames.insert({n.op, n.name}).second)
        errs.push_back(where(g, id) + ": another " + mnemonic(n.op) +
                       " has the name '" + n.name + "'");
      if (!n.type.known)
        errs.push_back(where(g, id) + ": leaf has no type");
    }
    if (n.op == OpKind::Const && n.type.known &&
        n.type.numel() != static_cast<int64_t>(n.values.size()))
      errs.push_back(where(g, id) + ": " + std::to_string(n.values.size()) +
                     " values for type " + n.type.str());
    if (n.op == OpKind::OneHot && n.classes <= 0)
      errs.push_back(where(g, id) + ": needs a positive number of classes");
    if (n.op == OpKind::Dropout && !(n.param >= 0 && n.param < 1))
      errs.push_back(where(g, id) + ": dropout's p must be in [0, 1), got " +
                     formatDouble(n.param));
    if (hasTrait(n.op, kReduction) && n.axis < -1)
      errs.push_back(where(g, id) + ": bad axis " + std::to_string(n.axis));
  }

  std::set<std::string> outNames;
  for (const Output &o : g.outputs) {
    if (o.node < 0 || o.node >= g.size())
      errs.push_back("output '" + o.name + "' refers to missing node " +
                     std::to_string(o.node));
    if (!outNames.insert(o.name).second)
      errs.push_back("output '" + o.name + "' is defined twice");
  }
  std::set<NodeId> targets;
  for (const Update &u : g.updates) {
    std::string what = "update of node " + std::to_string(u.target);
    if (u.target < 0 || u.target >= g.size() || u.value < 0 ||
        u.value >= g.size()) {
      errs.push_back(what + ": refers to a missing node");
      continue;
    }
    const Node &t = g[u.target];
    if (t.op != OpKind::Param && t.op != OpKind::State)
      errs.push_back(what + ": target must be a param or state, not " +
                     mnemonic(t.op));
    if (t.type != g[u.value].type)
      errs.push_back(what + " ('" + t.name + "'): value has type " +
                     g[u.value].type.str() + ", target " + t.type.str());
    if (!targets.insert(u.target).second)
      errs.push_back(what + " ('" + t.name + "'): updated twice");
  }
  return errs;
}

} // namespace nn
