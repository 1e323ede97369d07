//===- Optimizer.h - The optimizer table and pass ---------------*- C++ -*-===//
///
/// \file
/// The optimizers of ir/Optimizers.def as data (for the frontend,
/// the driver and the docs), and the pass that appends the update of the
/// recipe's optimizer to a differentiated graph. Each optimizer's state
/// leaves and update graph live in its own file (passes/optim/Sgd.cpp).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"
#include "passes/Builder.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nn {

/// A row NN_HYPERPARAM of Optimizers.def.
struct HyperParam {
  const char *name;
  double OptimizerSpec::*field;
  double defaultValue;
  HyperRange range;
  /// The noun of its messages: "learning rate must be positive".
  const char *what;
};

/// A row NN_OPTIMIZER of Optimizers.def.
struct OptimizerInfo {
  OptimizerSpec::Kind kind;
  const char *name;
  /// Its hyperparameters, in the order the table lists them.
  std::vector<const HyperParam *> params;
  /// Each one's default for this optimizer ("lr=0.001" in its row), or the
  /// hyperparameter's own; parallel to `params`.
  std::vector<double> defaults;
  /// An example call: "sgd(lr = 0.1, momentum = 0.9)".
  const char *example;
};

/// Every hyperparameter, in table order.
const std::vector<HyperParam> &hyperParams();
/// Every optimizer, in table order (the first is the default).
const std::vector<OptimizerInfo> &optimizers();
/// The optimizer or hyperparameter with this name, if any.
const OptimizerInfo *findOptimizer(std::string_view name);
const HyperParam *findHyperParam(std::string_view name);
const OptimizerInfo &optimizerInfo(OptimizerSpec::Kind kind);
/// The spec of optimizer `info` with every hyperparameter at its default
/// for that optimizer (those it does not take at the table's default).
OptimizerSpec defaultSpec(const OptimizerInfo &info);
/// The names of the hyperparameters optimizer `info` takes, in table order.
std::vector<std::string> optimizerSettings(const OptimizerInfo &info);
/// Whether optimizer `info` takes hyperparameter `p`.
bool takes(const OptimizerInfo &info, const HyperParam &p);
/// The names of every optimizer, in table order.
std::vector<std::string> optimizerNames();
/// `spec` as the progress line shows it: "sgd(lr=0.05, momentum=0.9)", each
/// of its optimizer's hyperparameters in table order, printf's %g; a switch
/// (nesterov) or a non-negative amount (weight_decay) only when set.
std::string describeOptimizer(const OptimizerSpec &spec);

/// The scalar State leaf of the learning rate ("optimizer.lr"): its
/// Node::values hold the recipe's lr (its first value); the trainer writes
/// the scheduled lr into it before each step.
constexpr const char *kLrLeaf = "optimizer.lr";
/// The scalar State leaf that counts the steps done ("optimizer.step").
constexpr const char *kStepLeaf = "optimizer.step";
/// That leaf of `g`, added when `g` has none (the lowering of dropout and
/// the optimizers that count steps share it).
NodeId stepLeaf(Graph &g);
/// The scalar State leaf that dropout reads for the global batch row of a
/// program's row 0 ("optimizer.first_row"): 0 in one process; the
/// data-parallel executor sets it to its shard's first row, so that a
/// shard draws the masks of the whole batch's rows (ir/Philox.h). Its
/// first value is its own (0): checkpoints without it still load.
constexpr const char *kFirstRowLeaf = "optimizer.first_row";
/// That leaf of `g`, added when `g` has none (the lowering of dropout).
NodeId firstRowLeaf(Graph &g);

/// Appends the update of `spec`'s optimizer to `g`, a graph differentiate()
/// gave an output "grad.<param>" per trained parameter: those outputs give
/// way to updates of the parameters (and of the optimizer's state leaves,
/// named "optimizer.<param>.<state>").
Graph applyOptimizer(const Graph &g, const OptimizerSpec &spec);

/// What an optimizer's file sees: the graph, a builder, the recipe's
/// spec, and each trained parameter with its gradient, in Param order.
struct OptimizerContext {
  Graph &g;
  Builder b;
  const OptimizerSpec &spec;
  std::vector<std::pair<NodeId, NodeId>> params;

  /// A new State leaf "optimizer.<param>.<state>" of `param`'s type.
  NodeId stateLeaf(NodeId param, const std::string &state);
  /// The learning rate, a scalar shared by every parameter's update: the
  /// State leaf kLrLeaf (added once).
  NodeId lr();
  /// The step number after this step, t + 1 (1 at the first step), from
  /// the scalar State leaf "optimizer.step" (steps done so far, also the
  /// dropout key); its update t + 1 is added once.
  NodeId stepNumber();

  NodeId lrNode = -1, stepNode = -1;
  /// `target` takes `value` after the step.
  void update(NodeId target, NodeId value) {
    g.updates.push_back({target, value});
  }
};

class FuseContext;

/// An update recognised as a fused update op of ir/Ops.def (family Update).
struct UpdateMatch {
  /// Whether the op fits the update's target at all (fused.sgd: a Param);
  /// when it does not, `why` is empty.
  bool applies = false;
  /// The fused op's operands, empty when the update is not of its form.
  std::vector<NodeId> operands;
  /// The form found ("%w - %lr * %d.w"), or why it is not that form.
  std::string text, why;
};

/// Whether `u`'s value is the unfused form of update op `op`, as its
/// optimizer's file builds it (recognised beside the builder, so that a
/// change of form cannot silently stop the fusion). For passes/FuseSgd.cpp.
UpdateMatch matchUpdate(const FuseContext &c, UpdateOp op, const Update &u);
UpdateMatch matchSgdStep(const FuseContext &c, const Update &u);
UpdateMatch matchSgdMomentum(const FuseContext &c, const Update &u);
UpdateMatch matchAdamMoment(const FuseContext &c, const Update &u);
UpdateMatch matchAdamVariance(const FuseContext &c, const Update &u);
UpdateMatch matchAdamStep(const FuseContext &c, const Update &u);

/// clip_grad_norm (passes/optim/ClipGradNorm.cpp): when spec.clipGradNorm
/// is set, replaces each gradient of `c.params` by its clipped value, before
/// the optimizer's function runs.
void addClipGradNorm(OptimizerContext &c);

/// One function per optimizer row, in passes/optim/<Kind>.cpp.
#define NN_OPTIMIZER(Kind, Name, Params, Example)                              \
  void add##Kind##Updates(OptimizerContext &c);
#include "ir/Optimizers.def"

} // namespace nn
