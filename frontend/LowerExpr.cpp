//===- LowerExpr.cpp - Expressions to graph nodes -------------------------===//
///
/// \file
/// Algorithm: a post-order walk of each expression. Operands are lowered
/// first (all of them, so every error in an expression is reported); a node
/// over a poison operand is poison. Each node is typed by the shape rules
/// as it is made (for the width of a dense layer's input); a node whose
/// rule fails stays untyped, and inferShapes reports the error.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "frontend/Suggest.h"
#include "ir/Attributes.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/ShapeRules.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>

namespace nn {

namespace {

/// Whether op `op` is a .nn function of its mnemonic: a unary elementwise,
/// reduction, rows or loss op, but for the few the language writes
/// otherwise. A new op of these families is a function by its table row.
bool isFunction(OpKind op) {
  // Written as an operator (neg: -x), or made only by autodiff.
  // (normalize is written as the layer layer_norm.)
  static const OpKind kNotFunctions[] = {
      OpKind::Neg,    OpKind::Step,      OpKind::Count,
      OpKind::OneHot, OpKind::Normalize, OpKind::NormalizeGrad};
  if (std::find(std::begin(kNotFunctions), std::end(kNotFunctions), op) !=
      std::end(kNotFunctions))
    return false;
  switch (family(op)) {
  case OpFamily::Elementwise:
    return opInfo(op).arity == 1;
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Loss:
  case OpFamily::Random:
    return true;
  case OpFamily::Leaf:
  case OpFamily::Linalg:
  case OpFamily::Spatial:
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return false;
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// The op that the .nn function `name` makes, if there is such a function.
std::optional<OpKind> functionOp(const std::string &name) {
  std::optional<OpKind> op = opFromMnemonic(name);
  if (op && isFunction(*op))
    return op;
  return std::nullopt;
}

std::vector<std::string> allFunctionNames() {
  std::vector<std::string> names = {
      "dense",     "layer_norm", "conv2d",         "batch_norm", "maxpool2d",
      "avgpool2d", "flatten",    "global_avgpool", "reshape"};
  for (OpKind op : allOps())
    if (isFunction(op))
      names.push_back(mnemonic(op));
  return names;
}

/// The activations `dense` takes, by name (the NN_ACTIVATION rows).
std::vector<std::string> activationNames() {
  std::vector<std::string> names;
  for (Activation a : allActivations())
    names.push_back(activationName(a));
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<Activation> activationNamed(const std::string &name) {
  for (Activation a : allActivations())
    if (name == activationName(a))
      return a;
  return std::nullopt;
}

std::string plural(size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

/// leaky_relu's slope when none is written: PyTorch's default.
constexpr double kDefaultSlope = 0.01;

/// The slope `e` gives leaky_relu: a number >= 0 written as a literal;
/// nullopt after an error under `e`.
std::optional<double> slopeValue(DiagEngine &diags, const Expr &e) {
  double v = 0;
  if (!e.constant(v)) {
    diags.error(spanOf(e), "the slope of 'leaky_relu' must be a number, as "
                           "in 'leaky_relu(x, 0.01)'");
    return std::nullopt;
  }
  if (v > std::numeric_limits<float>::max()) {
    diags.error(spanOf(e), "value is out of range for f32 (largest magnitude "
                           "about 3.4e38)");
    return std::nullopt;
  }
  if (v < 0) {
    diags.error(spanOf(e), "nnc needs the slope of 'leaky_relu' to be >= 0, "
                           "got " +
                               formatDouble(v));
    diags.note(spanOf(e), "its gradient is computed from its output, whose "
                          "sign is the input's only when the slope is >= 0");
    return std::nullopt;
  }
  return v;
}

} // namespace

std::optional<Activation> layerActivation(DiagEngine &diags, const Expr &a,
                                          double &slope,
                                          const std::string &example) {
  std::optional<Activation> act = activationNamed(a.text);
  bool call =
      a.kind == Expr::Kind::Call && act && hasSlope(opOf(activationOp(*act)));
  if (a.kind != Expr::Kind::Name && !call) {
    diags.error(spanOf(a),
                "expected an activation: " + activationChoices("or"));
    return std::nullopt;
  }
  if (!act) {
    diags.error(a.loc, "unknown activation '" + a.text + "'");
    std::string guess = suggest(a.text, activationNames());
    diags.help(a.loc, guess.empty()
                          ? "the activations are " + activationChoices("and")
                          : "did you mean '" + guess + "'?");
    return std::nullopt;
  }
  slope = hasSlope(opOf(activationOp(*act))) ? kDefaultSlope : 0.0;
  if (!call)
    return act;
  if (a.args.size() != 1 || !a.kwargs.empty()) {
    diags.error(a.loc, "in '" + example.substr(0, example.find('(')) +
                           "', '" + a.text +
                           "' takes only its slope, as in '" + example +
                           a.text + "(0.2))'");
    return std::nullopt;
  }
  std::optional<double> v = slopeValue(diags, *a.args[0]);
  if (!v)
    return std::nullopt;
  slope = *v;
  return act;
}

TensorType ExprLowerer::typeOf(const Node &n) const {
  ShapeResult r = inferNodeType(g, n);
  return r.error.empty() ? r.type : TensorType{};
}

NodeId ExprLowerer::add(OpKind op, std::vector<NodeId> inputs,
                        const SrcLoc &loc) {
  for (NodeId in : inputs)
    if (in == kPoison)
      return kPoison;
  Node n = makeNode(op, std::move(inputs), loc);
  n.type = typeOf(n);
  return g.add(std::move(n));
}

NodeId ExprLowerer::lowerExpr(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Number:
  case Expr::Kind::Unary: {
    double v;
    if (e.constant(v)) {
      if (!fitsF32(e, v))
        return kPoison;
      Node n = makeNode(OpKind::Const, {}, spanOf(e));
      n.values = {v};
      n.type = TensorType::scalar();
      return g.add(std::move(n));
    }
    return add(OpKind::Neg, {lowerExpr(*e.args[0])}, e.loc);
  }
  case Expr::Kind::String:
    diags.error(e.loc, "a string cannot be used in an expression");
    return kPoison;
  case Expr::Kind::List:
    diags.error(e.loc, "a list of values can only initialize a param");
    return kPoison;
  case Expr::Kind::Name:
    return lowerName(e);
  case Expr::Kind::Call:
    return lowerCall(e);
  case Expr::Kind::Binary: {
    NodeId a = lowerExpr(*e.args[0]);
    NodeId b = lowerExpr(*e.args[1]);
    OpKind op = e.op == '+'   ? OpKind::Add
                : e.op == '-' ? OpKind::Sub
                : e.op == '*' ? OpKind::Mul
                : e.op == '/' ? OpKind::Div
                              : OpKind::MatMul;
    // A plain param on the right of `@` is a weight: L2 applies to it.
    if (op == OpKind::MatMul && b != kPoison &&
        e.args[1]->kind == Expr::Kind::Name && g[b].op == OpKind::Param)
      g[b].isWeight = true;
    return add(op, {a, b}, e.loc);
  }
  }
  NN_UNREACHABLE("bad expression kind");
}

NodeId ExprLowerer::lowerName(const Expr &e) {
  auto it = env.find(e.text);
  if (it != env.end())
    return it->second.id;
  diags.error(e.loc, "undefined name '" + e.text + "'");
  std::vector<std::string> fns = allFunctionNames();
  auto def = later.find(e.text);
  if (std::find(fns.begin(), fns.end(), e.text) != fns.end()) {
    diags.help(e.loc, "'" + e.text + "' is a function; call it, as in '" +
                          e.text + "(x)'");
  } else if (def != later.end()) {
    if (def->second.line == e.loc.line)
      diags.help(e.loc, "'" + e.text +
                            "' cannot be used in its own "
                            "definition");
    else
      diags.help(e.loc, "'" + e.text + "' is defined on line " +
                            std::to_string(def->second.line) +
                            ", after this use");
  } else {
    std::vector<std::string> names;
    for (const auto &[name, b] : env)
      names.push_back(name);
    std::string guess = suggest(e.text, names);
    if (!guess.empty())
      diags.help(e.loc, "did you mean '" + guess + "'?");
  }
  return kPoison;
}

bool ExprLowerer::checkArgs(const Expr &e, size_t count,
                            const std::vector<std::string> &kwargs) {
  bool ok = true;
  if (e.args.size() != count) {
    diags.error(e.loc, "'" + e.text + "' takes " + plural(count, "argument") +
                           ", got " + std::to_string(e.args.size()));
    ok = false;
  }
  for (const KwArg &k : e.kwargs) {
    if (std::find(kwargs.begin(), kwargs.end(), k.name) != kwargs.end())
      continue;
    diags.error(k.loc,
                "unknown argument '" + k.name + "' for '" + e.text + "'");
    std::string guess = suggest(k.name, kwargs);
    if (!guess.empty())
      diags.help(k.loc, "did you mean '" + guess + "'?");
    ok = false;
  }
  return ok;
}

bool ExprLowerer::fitsF32(const Expr &e, double v) {
  if (std::fabs(v) <= std::numeric_limits<float>::max())
    return true;
  diags.error(spanOf(e), "value is out of range for f32 (largest magnitude "
                         "about 3.4e38)");
  return false;
}

std::optional<int64_t> ExprLowerer::positiveInt(const Expr &e,
                                                const std::string &msg) {
  std::optional<int64_t> v = integerValue(e);
  if (!v || *v <= 0) {
    diags.error(spanOf(e), msg);
    return std::nullopt;
  }
  return v;
}

NodeId ExprLowerer::lowerCall(const Expr &e) {
  if (e.text == "dense") {
    diags.error(e.loc, "'dense' creates a layer and must be bound to a name, "
                       "as in 'fc1 = dense(x, 128, relu)'");
    return kPoison;
  }
  if (e.text == "layer_norm") {
    diags.error(e.loc, "'layer_norm' creates a layer and must be bound to a "
                       "name, as in 'n1 = layer_norm(h)'");
    return kPoison;
  }
  for (const char *layer : {"conv2d", "batch_norm"}) {
    if (e.text != layer)
      continue;
    diags.error(e.loc, "'" + e.text +
                           "' creates a layer and must be bound to a name, "
                           "as in " +
                           (e.text == "conv2d"
                                ? "'c1 = conv2d(x, 32, kernel = 3, relu)'"
                                : "'b1 = batch_norm(c1)'"));
    return kPoison;
  }
  if (e.text == "maxpool2d")
    return lowerPoolCall(OpKind::MaxPool2d, e);
  if (e.text == "avgpool2d")
    return lowerPoolCall(OpKind::AvgPool2d, e);
  if (e.text == "global_avgpool")
    return lowerGlobalAvgPool(e);
  if (e.text == "flatten")
    return lowerFlatten(e);
  if (e.text == "reshape")
    return lowerReshape(e);
  if (std::optional<OpKind> op = functionOp(e.text)) {
    switch (family(*op)) {
    case OpFamily::Elementwise:
    case OpFamily::Rows:
      if (hasSlope(*op))
        return lowerSlopeCall(*op, e);
      if (!checkArgs(e, 1, {}))
        return kPoison;
      return add(*op, {lowerExpr(*e.args[0])}, e.loc);
    case OpFamily::Reduce:
      return lowerReduceCall(*op, e);
    case OpFamily::Loss:
      if (!inLoss) {
        diags.error(e.loc, "'" + e.text +
                               "' is a loss function; use it in the "
                               "'loss' statement");
        return kPoison;
      }
      return lowerLossCall(*op, e);
    case OpFamily::Random:
      return lowerRandomCall(*op, e);
    case OpFamily::Leaf:
    case OpFamily::Linalg:
    case OpFamily::Spatial:
    case OpFamily::Dense:
    case OpFamily::LossGrad:
    case OpFamily::Update:
    case OpFamily::FusedElementwise:
      break;
    }
    NN_UNREACHABLE(std::string("not a .nn function: ") + mnemonic(*op));
  }
  diags.error(e.loc, "unknown function '" + e.text + "'");
  std::string guess = suggest(e.text, allFunctionNames());
  if (!guess.empty())
    diags.help(e.loc, "did you mean '" + guess + "'?");
  else if (env.count(e.text))
    diags.help(e.loc, "'" + e.text + "' is a value, not a function");
  return kPoison;
}

NodeId ExprLowerer::lowerSlopeCall(OpKind op, const Expr &e) {
  if (e.args.empty() || e.args.size() > 2) {
    diags.error(e.loc, "'" + e.text +
                           "' takes an input and an optional "
                           "slope, as in '" +
                           e.text + "(x, 0.01)'");
    return kPoison;
  }
  if (!checkArgs(e, e.args.size(), {}))
    return kPoison;
  NodeId x = lowerExpr(*e.args[0]);
  std::optional<double> slope = kDefaultSlope;
  if (e.args.size() == 2)
    slope = slopeValue(diags, *e.args[1]);
  NodeId y = slope ? add(op, {x}, e.loc) : kPoison;
  if (y != kPoison)
    g[y].param = *slope;
  return y;
}

NodeId ExprLowerer::lowerReduceCall(OpKind op, const Expr &e) {
  if (!checkArgs(e, 1, {"axis"}))
    return kPoison;
  int64_t axis = -1;
  if (const KwArg *k = e.kwarg("axis")) {
    std::optional<int64_t> v = integerValue(*k->value);
    if (!v || *v < -1) {
      diags.error(spanOf(*k->value),
                  "axis must be an integer: 0, 1, ... or -1 for all axes");
      return kPoison;
    }
    axis = *v;
  }
  NodeId x = lowerExpr(*e.args[0]);
  if (x == kPoison)
    return kPoison;
  Node n = makeNode(op, {x}, e.loc);
  n.axis = axis;
  n.type = typeOf(n);
  return g.add(std::move(n));
}

NodeId ExprLowerer::lowerLossCall(OpKind op, const Expr &e) {
  if (!checkArgs(e, 2, {}))
    return kPoison;
  NodeId p = lowerExpr(*e.args[0]);
  NodeId y = lowerExpr(*e.args[1]);
  if (p == kPoison || y == kPoison)
    return kPoison;
  if (!firstPred) {
    // "pred" is always probabilities or values, never logits.
    NodeId pred = p;
    if (op == OpKind::BceLogits || op == OpKind::SoftmaxCrossEntropy) {
      pred = add(op == OpKind::BceLogits ? OpKind::Sigmoid : OpKind::Softmax,
                 {p}, e.loc);
      g[pred].name = "pred";
    }
    firstPred = pred;
  }
  return add(op, {p, y}, e.loc);
}

void ExprLowerer::explainUnknown(NodeId x, const SrcLoc &where) {
  // The first node under x whose shape rule fails is the cause.
  std::vector<NodeId> todo = {x};
  while (!todo.empty()) {
    NodeId id = todo.back();
    todo.pop_back();
    ShapeResult r = inferNodeType(g, g[id]);
    if (!r.error.empty()) {
      diags.note(g[id].loc, "its shape is unknown: " + r.error);
      return;
    }
    for (NodeId in : g[id].inputs)
      if (!g[in].type.known)
        todo.push_back(in);
  }
  diags.help(where, "the input needs a known shape f32[N,k]: an input, a "
                    "dense layer, or an expression of them");
}

NodeId ExprLowerer::lowerDense(const std::string &name, const Expr &call) {
  bool ok = checkArgs(call, call.args.size(), {});
  if (call.args.size() < 2 || call.args.size() > 3) {
    diags.error(call.loc, "'dense' takes an input, a size and an optional "
                          "activation, as in 'dense(x, 128, relu)'");
    return kPoison;
  }
  NodeId x = lowerExpr(*call.args[0]);
  std::optional<int64_t> units =
      positiveInt(*call.args[1], "layer size must be a positive integer");
  ok &= units.has_value();
  std::optional<Activation> act;
  double slope = 0;
  if (call.args.size() == 3) {
    act = layerActivation(diags, *call.args[2], slope, "dense(x, 128, ");
    ok &= act.has_value();
  }
  if (!ok || x == kPoison)
    return kPoison;
  const TensorType &xt = g[x].type;
  SrcLoc xloc = spanOf(*call.args[0]);
  if (!xt.known) {
    diags.error(xloc, "cannot tell the width of the input of 'dense'");
    explainUnknown(x, xloc);
    return kPoison;
  }
  if (xt.rank() > 2 && xt.dims[0] == kBatch) {
    diags.error(xloc, "'dense' expects a batch of vectors f32[N,k], but its "
                      "input has type " +
                          xt.str() + ": flatten it first");
    const Expr &xe = *call.args[0];
    diags.help(xloc, "as in 'g = flatten(" +
                         (xe.kind == Expr::Kind::Name ? xe.text : "h") +
                         ")', then 'dense(g, " + call.args[1]->text + ")'");
    return kPoison;
  }
  if (xt.rank() != 2 || xt.dims[0] != kBatch) {
    diags.error(xloc, "'dense' expects a batch of vectors f32[N,k], but its "
                      "input has type " +
                          xt.str());
    return kPoison;
  }
  int64_t in = xt.dims[1], out = *units;

  Node w = makeNode(OpKind::Param, {}, call.loc);
  w.name = name + ".weight";
  w.type = TensorType::of({in, out});
  // He initialisation for relu layers, Xavier for the others.
  w.init.kind = act == Activation::Relu ? InitKind::He : InitKind::Xavier;
  w.isWeight = true;
  w.storedTransposed = true; // weight files hold nn.Linear's [out, in]
  NodeId wid = g.add(std::move(w));

  Node b = makeNode(OpKind::Param, {}, call.loc);
  b.name = name + ".bias";
  b.type = TensorType::of({out});
  b.init.kind = InitKind::Zeros;
  NodeId bid = g.add(std::move(b));

  NodeId mm = add(OpKind::MatMul, {x, wid}, call.loc);
  g[mm].name = name + ".matmul";
  NodeId sum = add(OpKind::Add, {mm, bid}, call.loc);
  g[sum].name = act ? name + ".add" : name;
  if (!act)
    return sum;
  NodeId y = add(opOf(activationOp(*act)), {sum}, call.loc);
  g[y].name = name;
  g[y].param = slope;
  return y;
}

} // namespace nn
