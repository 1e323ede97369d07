//===- Attributes.h - The node attribute table ------------------*- C++ -*-===//
///
/// \file
/// The attributes of a node in the IR text form (`{axis = 1, act = relu}`),
/// one row each: its name, which nodes carry it, how its value is printed
/// and how it is read. The printer, the IR parser and CSE (which keys on
/// attributeTexts) all read this table, so a new attribute is one row here.
/// The `name` attribute (a label that is not an identifier) belongs to the
/// printer's labelling and is not a row.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

/// What an attribute's row reads its value with: the IR parser's grammar.
class AttrReader {
public:
  virtual ~AttrReader() = default;
  /// An integer in [lo, hi]; `what` names it in errors ("an axis").
  virtual int64_t readInt(int64_t lo, int64_t hi, const char *what) = 0;
  /// `[1, 2.5, -3]`.
  virtual std::vector<double> readValues() = 0;
  /// One number: `0.5`, `-1e-3`, `inf`, `nan`.
  virtual double readNumber() = 0;
  /// Takes the next token: its text when it is an identifier, else nullopt.
  virtual std::optional<std::string> takeWord() = 0;
  /// Reports `msg` at the token takeWord took, and stops.
  [[noreturn]] virtual void failAtTaken(const std::string &msg) = 0;
  /// A type: `f32[N,1,28,28]`.
  virtual TensorType readType() = 0;
  /// `he`, `uniform(-0.1, 0.1)`.
  virtual Init readInit() = 0;
  /// A fused.elementwise body expression, its steps appended to `body`.
  virtual void readBody(std::vector<ExprStep> &body) = 0;
};

/// One row of the attribute table.
struct AttrSpec {
  const char *name;
  /// Written alone (`weight`, `transA`), without `= value`.
  bool flag;
  /// Whether node `n` carries it: always on some ops (`kind` on a label),
  /// else when its field differs from the default.
  bool (*carried)(const Node &n);
  /// The value's text after `name = `; unused for a flag.
  std::string (*print)(const Node &n);
  /// Reads the value after `name =` into `n` (a flag: reads nothing).
  void (*parse)(AttrReader &r, Node &n);
};

/// Every attribute, in the order a node's line writes them.
const std::vector<AttrSpec> &attributeTable();
/// The row named `name`, or null.
const AttrSpec *findAttribute(std::string_view name);

/// The attributes of `n` as its line writes them between braces, in order,
/// without its name: `axis = 1`, `act = relu`, `transA`, `body = ...`. They
/// are every field of Node that changes what the node computes, except the
/// op, operands, type and a Const's value (written before the operands);
/// CSE keys on them.
std::vector<std::string> attributeTexts(const Node &n);

/// The fused dense ops that apply (fused.dense, `none` included) or
/// differentiate (the dense gradients) an activation: their `act` is always
/// printed. fused.matmul has none.
bool carriesActivation(OpKind op);

/// The spatial ops with a window (Node::win): convolution, pooling and
/// their gradients. Their kernel, stride and padding are always printed.
bool hasWindow(OpKind op);

/// The ops that may apply or differentiate an activation (Node::act): the
/// fused dense ops, and conv2d, its gradients and channel_sum once fusion
/// gives them one.
bool takesActivation(OpKind op);

/// Whether elementwise op `op` has a number, its slope (Node::param; in a
/// fused.elementwise body, the step's ExprStep::value): leaky_relu.
bool hasSlope(OpKind op);

/// Whether node `n` carries a slope: an op that has one, or a node whose
/// activation has one (fused dense ops: `act = leaky_relu, slope = 0.01`).
bool carriesSlope(const Node &n);

/// `[1, 2.5, -3]`: a list of values as the IR text writes it.
std::string valuesText(const std::vector<double> &vs);

/// "relu, sigmoid and tanh" (`last` = "and") or "none, relu, sigmoid or
/// tanh" (`withNone`, `last` = "or"): the activation names, sorted, for
/// messages.
std::string activationChoices(const char *last, bool withNone = false);

} // namespace nn
