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

#include <array>
#include <map>
#include <optional>

namespace nn {

struct Stmt;

/// The value of a name whose statement failed: uses of it lower silently
/// to poison again, so no error cascades from the first one.
constexpr NodeId kPoison = -1;

/// The activation of a layer (`dense(x, n, act)`, `conv2d(x, n, ..., act)`)
/// from its argument `a`: a name (`relu`; `leaky_relu` with the default
/// slope) or leaky_relu with its slope (`leaky_relu(0.2)`), which goes to
/// `slope`; nullopt after an error. `example` starts the layer's call in
/// messages, e.g. "dense(x, 128, ".
std::optional<Activation> layerActivation(DiagEngine &diags, const Expr &a,
                                          double &slope,
                                          const std::string &example);

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
  /// `name = conv2d(x, out, kernel = k, ..., act)`: weight, bias, conv2d
  /// with its window, activation (LowerConv.cpp).
  NodeId lowerConv2d(const std::string &name, const Expr &call);
  /// `name = batch_norm(x)`: batch_normalize, channel_affine, and the
  /// running statistics' updates (LowerBatchNorm.cpp).
  NodeId lowerBatchNorm(const std::string &name, const Expr &call);
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
  /// maxpool2d(x, k), avgpool2d(x, k), global_avgpool(x) (LowerPool.cpp).
  NodeId lowerPoolCall(OpKind op, const Expr &e);
  NodeId lowerGlobalAvgPool(const Expr &e);
  /// flatten(x), reshape(x, [dims]) (LowerReshape.cpp).
  NodeId lowerFlatten(const Expr &e);
  NodeId lowerReshape(const Expr &e);
  /// A window keyword's value: `3` or `[3, 5]` (height, width), each at
  /// least `min`; nullopt after an error under it. `what` names it.
  std::optional<std::array<int64_t, 2>> windowPair(const Expr &e,
                                                   const std::string &what,
                                                   int64_t min);
  /// The image `x` of a spatial layer or function `fn` ([N,C,H,W]); false
  /// after an error at `xloc` (unknown shape, not an image).
  bool checkImage(NodeId x, const SrcLoc &xloc, const std::string &fn);
  /// A spatial node `n` (its window set) typed by passes/SpatialShapes.h;
  /// kPoison after the rule's error at `loc`.
  NodeId addSpatial(Node n, const SrcLoc &loc);
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
