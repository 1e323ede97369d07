//===- LowerExpr.h - Expressions to graph nodes ----------------*- C++ -*-===//
///
/// \file
/// The part of lowering that turns expressions, layer sugar and param
/// initializers into nodes. Lower.cpp drives it statement by statement.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Ast.h"
#include "ir/Graph.h"

#include <map>
#include <optional>

namespace nn {

struct Stmt;

/// The value of a name whose statement failed: uses of it lower silently
/// to poison again, so no error cascades from the first one.
constexpr NodeId kPoison = -1;

class ExprLowerer {
public:
  explicit ExprLowerer(DiagEngine &diags) : diags(diags) {}

protected:
  struct Binding {
    NodeId id = kPoison;
    SrcLoc loc;
  };

  /// The node computing `e`, or kPoison after reporting an error.
  NodeId lowerExpr(const Expr &e);
  /// `name = dense(x, units, act)`: weight, bias, matmul, add, activation.
  NodeId lowerDense(const std::string &name, const Expr &call);
  /// `name = layer_norm(x)`: normalize, times weight, plus bias
  /// (LowerNorm.cpp).
  NodeId lowerLayerNorm(const std::string &name, const Expr &call);
  /// Sets `n.init` (and `n.values`) from the param statement `s`; false
  /// after errors.
  bool lowerInit(const Stmt &s, Node &n);
  /// The positive integer in `e`, or nullopt after an error `msg` under it.
  std::optional<int64_t> positiveInt(const Expr &e, const std::string &msg);
  /// False after an error under `e` when `v` (its value) overflows f32.
  bool fitsF32(const Expr &e, double v);

  DiagEngine &diags;
  Graph g;
  std::map<std::string, Binding> env;
  /// Every name the file declares, for "defined later" hints.
  std::map<std::string, SrcLoc> later;
  /// Inside the loss statement; loss calls are allowed.
  bool inLoss = false;
  /// The prediction of the loss statement's first loss call.
  std::optional<NodeId> firstPred;

private:
  NodeId lowerName(const Expr &e);
  NodeId lowerCall(const Expr &e);
  NodeId lowerReduceCall(OpKind op, const Expr &e);
  /// `leaky_relu(x)`, `leaky_relu(x, 0.2)`: the slope in Node::param.
  NodeId lowerSlopeCall(OpKind op, const Expr &e);
  NodeId lowerLossCall(OpKind op, const Expr &e);
  /// dropout(x, p) (LowerRandom.cpp).
  NodeId lowerRandomCall(OpKind op, const Expr &e);
  NodeId add(OpKind op, std::vector<NodeId> inputs, const SrcLoc &loc);
  /// `n`'s type by the shape rules (passes/ShapeRules.h); unknown when an
  /// operand's is or the rule fails (inferShapes reports that later).
  TensorType typeOf(const Node &n) const;
  /// Why `x` has no type: a note at the node whose shape rule fails.
  void explainUnknown(NodeId x, const SrcLoc &where);
  std::optional<double> layerNormEps(const Expr &call);
  std::optional<int64_t> layerNormWidth(NodeId x, const SrcLoc &xloc);
  bool checkArgs(const Expr &e, size_t count,
                 const std::vector<std::string> &kwargs);
  bool flatten(const Expr &list, const std::vector<int64_t> &dims, size_t depth,
               std::vector<double> &out);
};

} // namespace nn
