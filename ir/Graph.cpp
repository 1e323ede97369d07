//===- Graph.cpp - The graph IR -------------------------------------------===//

#include "ir/Graph.h"
#include "ir/Support.h"

namespace nn {

namespace {
const OpInfo kOpInfos[] = {
#define NN_OP(Kind, Mnemonic, Arity, Family, Traits)                           \
  {Mnemonic, Arity, Traits, OpFamily::Family,                                  \
   static_cast<int>(Family##Op::Kind)},
#include "ir/Ops.def"
};
} // namespace

const OpInfo &opInfo(OpKind k) { return kOpInfos[static_cast<int>(k)]; }

std::optional<OpKind> opFromMnemonic(std::string_view m) {
  for (OpKind k : allOps())
    if (m == opInfo(k).mnemonic)
      return k;
  return std::nullopt;
}

const std::vector<OpKind> &allOps() {
  static const std::vector<OpKind> ops = {
#define NN_OP(Kind, Mnemonic, Arity, Family, Traits) OpKind::Kind,
#include "ir/Ops.def"
  };
  return ops;
}

const char *familyName(OpFamily f) {
  switch (f) {
#define NN_FAMILY_NAME(F)                                                      \
  case OpFamily::F:                                                            \
    return #F;
    NN_OP_FAMILIES(NN_FAMILY_NAME)
#undef NN_FAMILY_NAME
  }
  NN_UNREACHABLE("bad OpFamily");
}

bool Window::operator==(const Window &o) const {
  for (int a = 0; a < 2; ++a)
    if (kernel[a] != o.kernel[a] || stride[a] != o.stride[a] ||
        padding[a] != o.padding[a] || dilation[a] != o.dilation[a])
      return false;
  return groups == o.groups;
}

void throwWrongFamily(OpKind k, OpFamily want) {
  NN_UNREACHABLE(std::string("'") + mnemonic(k) + "' is not of family " +
                 familyName(want));
}

OpKind opOfMember(OpFamily f, int member) {
  for (OpKind k : allOps())
    if (family(k) == f && opInfo(k).member == member)
      return k;
  NN_UNREACHABLE(std::string("no member ") + std::to_string(member) +
                 " in family " + familyName(f));
}

namespace {
const ElementwiseOp kActivationOps[] = {
#define NN_ACTIVATION(Kind, Mnemonic, GradFrom) ElementwiseOp::Kind,
#include "ir/Ops.def"
};
} // namespace

const std::vector<Activation> &allActivations() {
  static const std::vector<Activation> acts = {
#define NN_ACTIVATION(Kind, Mnemonic, GradFrom) Activation::Kind,
#include "ir/Ops.def"
  };
  return acts;
}

ElementwiseOp activationOp(Activation a) {
  NN_ASSERT(a != Activation::None, "activation 'none' applies no op");
  return kActivationOps[static_cast<int>(a) - 1];
}

bool gradFromInput(Activation act) {
  enum From { Output, Input };
  static const From from[] = {
#define NN_ACTIVATION(Kind, Mnemonic, GradFrom) GradFrom,
#include "ir/Ops.def"
  };
  NN_ASSERT(act != Activation::None, "activation 'none' has no derivative");
  return from[static_cast<int>(act) - 1] == Input;
}

const char *activationName(Activation a) {
  return a == Activation::None ? "none" : mnemonic(opOf(activationOp(a)));
}

std::optional<Activation> activationOf(OpKind op) {
  for (Activation a : allActivations())
    if (opOf(activationOp(a)) == op)
      return a;
  return std::nullopt;
}

const char *initName(InitKind k) {
  switch (k) {
  case InitKind::Zeros:
    return "zeros";
  case InitKind::Constant:
    return "constant";
  case InitKind::Values:
    return "values";
  case InitKind::Uniform:
    return "uniform";
  case InitKind::Normal:
    return "normal";
  case InitKind::Xavier:
    return "xavier";
  case InitKind::He:
    return "he";
  }
  NN_UNREACHABLE("bad InitKind");
}

NodeId Graph::add(Node n) {
  NodeId id = size();
  for (NodeId in : n.inputs)
    NN_ASSERT(in >= 0 && in < id, "operand must precede its user");
  int arity = opInfo(n.op).arity; // -1: one or more
  NN_ASSERT(arity < 0 ? !n.inputs.empty()
                      : static_cast<int>(n.inputs.size()) == arity,
            std::string("wrong operand count for ") + mnemonic(n.op));
  nodes.push_back(std::move(n));
  return id;
}

std::optional<NodeId> Graph::findLeaf(OpKind op, std::string_view leafName) const {
  for (NodeId i = 0; i < size(); ++i)
    if (nodes[i].op == op && nodes[i].name == leafName)
      return i;
  return std::nullopt;
}

std::optional<NodeId> Graph::output(std::string_view outName) const {
  for (const Output &o : outputs)
    if (o.name == outName)
      return o.node;
  return std::nullopt;
}

std::vector<NodeId> Graph::leaves(OpKind op) const {
  std::vector<NodeId> ids;
  for (NodeId i = 0; i < size(); ++i)
    if (nodes[i].op == op)
      ids.push_back(i);
  return ids;
}

std::vector<int> Graph::useCounts() const {
  std::vector<int> uses(nodes.size(), 0);
  for (const Node &n : nodes)
    for (NodeId in : n.inputs)
      ++uses[in];
  for (const Output &o : outputs)
    ++uses[o.node];
  for (const Update &u : updates)
    ++uses[u.value];
  return uses;
}

Node makeNode(OpKind op, std::vector<NodeId> inputs, SrcLoc loc) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.loc = std::move(loc);
  return n;
}

} // namespace nn
