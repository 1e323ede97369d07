//===- Graph.h - The graph IR ----------------------------------*- C++ -*-===//
///
/// \file
/// A Graph is a list of nodes in topological order (every operand comes
/// before its user), named outputs, and updates: the new values the training
/// step writes back to parameters and optimizer state.
///
/// Before autodiff a graph computes the forward pass and the loss; after it,
/// the same graph also holds the backward pass and the optimizer update as
/// ordinary ops. Passes are pure functions `Graph f(const Graph &)`.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

enum class OpKind {
#define NN_OP(Kind, Mnemonic, Arity, Traits) Kind,
#include "ir/Ops.def"
};

enum OpTrait : unsigned {
  kNone = 0,
  kLeaf = 1u << 0,
  kElementwise = 1u << 1,
  kReduction = 1u << 2,
  kLoss = 1u << 3,
  /// Made by a fusion pass (passes/Fuse*.cpp); semantics in Ops.def.
  kFused = 1u << 4,
};

struct OpInfo {
  const char *mnemonic;
  int arity;
  unsigned traits;
};

/// Static facts about an op, from Ops.def.
const OpInfo &opInfo(OpKind k);
inline const char *mnemonic(OpKind k) { return opInfo(k).mnemonic; }
inline bool hasTrait(OpKind k, OpTrait t) { return (opInfo(k).traits & t) != 0; }
/// The op with this mnemonic, if any.
std::optional<OpKind> opFromMnemonic(std::string_view m);
/// Every op, in table order.
const std::vector<OpKind> &allOps();

/// The activation a fused dense op applies (Dense) or differentiates
/// (DenseGradInput, DenseGradWeight, DenseGradBias).
enum class Activation { None, Relu, Sigmoid, Tanh };

/// "none", "relu", "sigmoid", "tanh".
inline const char *activationName(Activation a) {
  switch (a) {
  case Activation::None:
    return "none";
  case Activation::Relu:
    return "relu";
  case Activation::Sigmoid:
    return "sigmoid";
  case Activation::Tanh:
    return "tanh";
  }
  return "?";
}

/// One step of a fused.elementwise body: elementwise op `op` applied to
/// `args`, or, when `op` is Const, the scalar `value` (no args). An arg
/// k >= 0 is the node's operand k; an arg k < 0 is the result of the
/// earlier step -1 - k. The body's value is its last step's.
struct ExprStep {
  OpKind op = OpKind::Const;
  std::vector<int> args;
  double value = 0;

  bool operator==(const ExprStep &o) const {
    return op == o.op && args == o.args &&
           (value == o.value || (value != value && o.value != o.value));
  }
};

/// How a parameter gets its first value.
enum class InitKind { Zeros, Constant, Values, Uniform, Normal, Xavier, He };
const char *initName(InitKind k);

struct Init {
  InitKind kind = InitKind::Zeros;
  double a = 0; // Constant: the value; Uniform: low;  Normal: mean
  double b = 0; // Uniform: high; Normal: std
};

/// What a label leaf holds.
enum class LabelKind { Binary, Class, Real };

using NodeId = int32_t;

struct Node {
  OpKind op;
  std::vector<NodeId> inputs;
  TensorType type;
  /// Leaves: the name the outside world uses ("x", "fc1.weight",
  /// "optimizer.fc1.weight.momentum"). Other nodes: an optional readable
  /// name from the source ("fc1", "d.fc1.weight"), used by the printer.
  std::string name;
  /// Sum, Mean, Count: the reduced axis, -1 for all. Softmax: -1 (last).
  int64_t axis = -1;
  /// OneHot and class labels: the number of classes.
  int64_t classes = 0;
  /// Label: what it holds.
  LabelKind labelKind = LabelKind::Real;
  /// Const: the literal, one value for a scalar. Param with InitKind::Values:
  /// the initial values, row-major in the declared shape.
  std::vector<double> values;
  /// Param: how it is initialised.
  Init init;
  /// Param: L2 applies (weights yes, biases no).
  bool isWeight = false;
  /// Param: stored in weight files transposed, as nn.Linear's [out, in].
  bool storedTransposed = false;
  /// Where in the .nn file this node comes from.
  SrcLoc loc;
  /// Fused dense ops: the activation (see Ops.def).
  Activation act = Activation::None;
  /// FusedMatMul: operand 0 / operand 1 is read transposed.
  bool transA = false;
  bool transB = false;
  /// Elementwise (fused.elementwise): the per-element expression.
  std::vector<ExprStep> body;
};

/// A named result of the graph: "loss", "pred", ...
struct Output {
  std::string name;
  NodeId node;
};

/// `target` (a Param or State leaf) takes `value` after the step.
struct Update {
  NodeId target;
  NodeId value;
};

class Graph {
public:
  std::string name;
  std::vector<Node> nodes;
  std::vector<Output> outputs;
  std::vector<Update> updates;

  /// Appends `n` and returns its id; its operands must already exist.
  NodeId add(Node n);
  const Node &operator[](NodeId id) const { return nodes[id]; }
  Node &operator[](NodeId id) { return nodes[id]; }
  NodeId size() const { return static_cast<NodeId>(nodes.size()); }

  /// The leaf of kind `op` named `name`, if any.
  std::optional<NodeId> findLeaf(OpKind op, std::string_view name) const;
  /// The node of the named output, if any.
  std::optional<NodeId> output(std::string_view name) const;
  /// Ids of every leaf of kind `op`, in order.
  std::vector<NodeId> leaves(OpKind op) const;
  /// For each node, how many nodes, outputs and updates use it.
  std::vector<int> useCounts() const;
};

/// A node of kind `op` with these operands and location; other fields
/// default.
Node makeNode(OpKind op, std::vector<NodeId> inputs, SrcLoc loc = {});

} // namespace nn
