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
#define NN_OP(Kind, Mnemonic, Arity, Family, Traits) Kind,
#include "ir/Ops.def"
};

/// The op families of Ops.def. Stages dispatch on the family first, then on
/// the family's own enum below, so each switch is complete without `default`
/// and names only the ops whose behaviour it defines.
#define NN_OP_FAMILIES(X)                                                      \
  X(Leaf) X(Elementwise) X(Linalg) X(Reduce) X(Rows) X(Random) X(Spatial)     \
      X(Loss) X(Dense) X(LossGrad) X(Update) X(FusedElementwise)

enum class OpFamily {
#define NN_FAMILY_ENUMERATOR(F) F,
  NN_OP_FAMILIES(NN_FAMILY_ENUMERATOR)
#undef NN_FAMILY_ENUMERATOR
};

// One enum per family, its members in table order: LeafOp::Input,
// ElementwiseOp::Exp, LossOp::Mse, ...
enum class LeafOp {
#define NN_LEAF(Kind, Mnemonic) Kind,
#include "ir/Ops.def"
};
enum class ElementwiseOp {
#define NN_ELEMENTWISE(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class LinalgOp {
#define NN_LINALG(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class ReduceOp {
#define NN_REDUCE(Kind, Mnemonic) Kind,
#include "ir/Ops.def"
};
enum class RowsOp {
#define NN_ROWS(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class RandomOp {
#define NN_RANDOM(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class SpatialOp {
#define NN_SPATIAL(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class LossOp {
#define NN_LOSS(Kind, Mnemonic) Kind,
#include "ir/Ops.def"
};
enum class DenseOp {
#define NN_DENSE(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class LossGradOp {
#define NN_LOSS_GRAD(Kind, Mnemonic) Kind,
#include "ir/Ops.def"
};
enum class UpdateOp {
#define NN_UPDATE(Kind, Mnemonic, Arity) Kind,
#include "ir/Ops.def"
};
enum class FusedElementwiseOp {
#define NN_FUSED_ELEMENTWISE(Kind, Mnemonic) Kind,
#include "ir/Ops.def"
};

/// The activation a fused dense op applies (Dense) or differentiates
/// (DenseGradInput, DenseGradWeight, DenseGradBias): none, or one of the
/// NN_ACTIVATION rows of Ops.def.
enum class Activation {
  None,
#define NN_ACTIVATION(Kind, Mnemonic, GradFrom) Kind,
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
  OpFamily family;
  /// The op's position in its family's enum.
  int member;
};

/// Static facts about an op, from Ops.def.
const OpInfo &opInfo(OpKind k);
inline const char *mnemonic(OpKind k) { return opInfo(k).mnemonic; }
inline bool hasTrait(OpKind k, OpTrait t) { return (opInfo(k).traits & t) != 0; }
/// The op with this mnemonic, if any.
std::optional<OpKind> opFromMnemonic(std::string_view m);
/// Every op, in table order.
const std::vector<OpKind> &allOps();

inline OpFamily family(OpKind k) { return opInfo(k).family; }
/// "Leaf", "Elementwise", ... (for messages).
const char *familyName(OpFamily f);

/// The family enum type of each family, and back.
template <OpFamily F> struct FamilyEnum;
template <class T> struct FamilyOfEnum;
#define NN_FAMILY_ENUM(F)                                                      \
  template <> struct FamilyEnum<OpFamily::F> {                                 \
    using type = F##Op;                                                        \
  };                                                                           \
  template <> struct FamilyOfEnum<F##Op> {                                     \
    static constexpr OpFamily value = OpFamily::F;                             \
  };
NN_OP_FAMILIES(NN_FAMILY_ENUM)
#undef NN_FAMILY_ENUM

/// An internal error: op `k` is not of family `want`.
[[noreturn]] void throwWrongFamily(OpKind k, OpFamily want);
/// `k` as a member of its family's enum, e.g. `member<LossOp>(n.op)`; an
/// op of another family is an internal error.
template <class T> T member(OpKind k) {
  if (family(k) != FamilyOfEnum<T>::value)
    throwWrongFamily(k, FamilyOfEnum<T>::value);
  return static_cast<T>(opInfo(k).member);
}

/// The OpKind of a family member: `opOf(ElementwiseOp::Exp)`.
OpKind opOfMember(OpFamily f, int member);
template <class T> OpKind opOf(T m) {
  return opOfMember(FamilyOfEnum<T>::value, static_cast<int>(m));
}

/// "none" or the activation op's mnemonic ("relu", ...).
const char *activationName(Activation a);
/// Every activation but None, in table order.
const std::vector<Activation> &allActivations();
/// The elementwise op an activation applies; None has none (internal error).
ElementwiseOp activationOp(Activation a);
/// The activation that applies elementwise op `op`, if it is one.
std::optional<Activation> activationOf(OpKind op);
/// Whether act's derivative is written in its input z (GradFrom Input in
/// Ops.def: gelu, silu) rather than its output a = act(z).
bool gradFromInput(Activation act);

/// One step of a fused.elementwise body: elementwise op `op` applied to
/// `args`, or, when `op` is Const, the scalar `value` (no args); for an op
/// with a number (leaky_relu's slope, Node::param) `value` holds it. An arg
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

/// The window of a spatial op (conv2d, pooling), per axis [height, width],
/// with PyTorch's meaning of each number.
struct Window {
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;

  /// The output size along axis `a` (0: height, 1: width) of an input of
  /// size `in`; 0 or less when the window does not fit.
  int64_t outSize(int a, int64_t in) const {
    return (in + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) /
               stride[a] +
           1;
  }
  bool operator==(const Window &o) const;
  bool operator!=(const Window &o) const { return !(*this == o); }
};

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
  /// The op's number: leaky_relu and fused dense ops with act leaky_relu:
  /// the slope; dropout: the drop probability; normalize, normalize_grad:
  /// eps.
  double param = 0;
  /// Dropout: the key of its random stream, (seed, stream): the recipe's
  /// seed, and the op's own number among the model's dropout ops.
  uint64_t seed = 0;
  int64_t stream = 0;
  /// Spatial ops: the window (Ops.def).
  Window win;
  /// Reshape: the result's dims; conv2d_grad_input, avgpool2d_grad: the
  /// input's dims (which the output size alone does not give).
  std::vector<int64_t> shape;
  /// Param: a buffer (batch norm's running statistics), as PyTorch calls
  /// it: saved with the weights and written by the model's own updates
  /// (Graph::updates), never differentiated nor given to the optimizer.
  bool buffer = false;
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
