//===- Lower.cpp - Syntax tree to graph IR --------------------------------===//
///
/// \file
/// Algorithm: walk the statements in order with an environment from names to
/// nodes. Declarations add leaves; `name = expr` lowers the expression and
/// names its root; `dense` expands to weight, bias, matmul, add and
/// activation; the loss statement lowers its expression and records the
/// prediction of its first loss call. A statement that fails binds its name
/// to a poison value, and expressions over poison lower to poison silently,
/// so one mistake gives one error.
///
//===----------------------------------------------------------------------===//

#include "frontend/Lower.h"
#include "frontend/Suggest.h"

#include "frontend/LowerExpr.h"
#include "ir/TensorLimits.h"

#include <cmath>
#include <filesystem>

namespace nn {

SrcLoc spanOf(const Expr &e) {
  SrcLoc l = e.loc;
  if (e.kind == Expr::Kind::Unary && !e.args.empty()) {
    SrcLoc inner = spanOf(*e.args[0]);
    if (inner.line == l.line && inner.col > l.col)
      l.len = inner.col + inner.len - l.col;
  }
  return l;
}

std::optional<int64_t> integerValue(const Expr &e) {
  double v;
  if (!e.constant(v) || v != std::floor(v) || std::fabs(v) > static_cast<double>(kMaxWholeNumber))
    return std::nullopt;
  return static_cast<int64_t>(v);
}

namespace {

class Lowerer : public ExprLowerer {
public:
  Lowerer(const std::string &file, DiagEngine &diags)
      : ExprLowerer(diags), file(file) {}

  std::optional<Model> run(const Program &prog) {
    int errorsBefore = diags.errorCount();
    g.name = std::filesystem::path(file).stem().string();
    if (prog.stmts.empty()) {
      if (diags.errorCount() == errorsBefore)
        diags.error({file, 1, 1, 1},
                    "empty model: expected declarations and a 'loss'");
      return std::nullopt;
    }
    for (const Stmt &s : prog.stmts)
      if (!s.name.empty() && s.kind != Stmt::Kind::Model &&
          !later.count(s.name))
        later[s.name] = s.nameLoc;
    bool first = true;
    for (const Stmt &s : prog.stmts) {
      lowerStatement(s, first);
      first = false;
    }
    if (!lossStmt && !brokenLoss && !prog.truncated) {
      const Stmt &at = prog.stmts.front();
      diags.error(at.loc, "model '" + g.name + "' has no 'loss' statement");
      diags.help(at.loc, "add one, e.g. 'loss bce(sigmoid(z), y)'");
    }
    if (diags.errorCount() != errorsBefore)
      return std::nullopt;
    Model m;
    m.graph = std::move(g);
    m.recipe = std::move(recipe);
    return m;
  }

private:
  void lowerStatement(const Stmt &s, bool first) {
    switch (s.kind) {
    case Stmt::Kind::Model:
      if (!first) {
        diags.error(s.loc, "'model' must be the first statement");
        return;
      }
      if (!s.broken)
        g.name = s.name;
      return;
    case Stmt::Kind::Input:
    case Stmt::Kind::Label:
    case Stmt::Kind::Param:
      if (s.broken) {
        poison(s);
        return;
      }
      define(s.name, s.nameLoc, lowerDecl(s));
      return;
    case Stmt::Kind::Bind:
      if (s.broken) {
        poison(s);
        return;
      }
      define(s.name, s.nameLoc, lowerBind(s));
      return;
    case Stmt::Kind::Loss:
      if (lossStmt) {
        diags.error(s.loc, "a model has exactly one 'loss' statement");
        diags.note(lossStmt->loc, "the first 'loss' is here");
        return;
      }
      // A loss that failed to parse still counts as "the" loss, but does
      // not make a later one a duplicate.
      if (s.broken) {
        brokenLoss = true;
        return;
      }
      lossStmt = &s;
      lowerLoss(s);
      return;
    case Stmt::Kind::Train:
      if (trainStmt) {
        diags.error(s.loc, "a model has at most one 'train' block");
        diags.note(trainStmt->loc, "the first 'train' block is here");
        return;
      }
      trainStmt = &s;
      lowerTrain(s, recipe, diags);
      return;
    }
  }

  void poison(const Stmt &s) {
    if (!s.name.empty() && !env.count(s.name))
      env[s.name] = {kPoison, s.nameLoc};
  }

  void define(const std::string &name, const SrcLoc &loc, NodeId id) {
    auto it = env.find(name);
    if (it != env.end()) {
      diags.error(loc, "redefinition of '" + name + "'");
      diags.note(it->second.loc, "previous definition is here");
      return;
    }
    env[name] = {id, loc};
  }

  /// `[784]` or `[2, 3]` after a type name; false after errors.
  bool lowerDims(const TypeSpec &t, std::vector<int64_t> &dims) {
    bool ok = true;
    for (const ExprPtr &d : t.dims) {
      auto v = positiveInt(*d, "dimension must be a positive integer");
      ok &= v.has_value();
      if (v)
        dims.push_back(*v);
    }
    if (t.hasDims && t.dims.empty()) {
      diags.error(t.loc, "empty shape: leave out '[]' for a scalar");
      ok = false;
    }
    if (std::string big = ok ? tensorSizeError(dims) : ""; !big.empty()) {
      diags.error(t.loc, big);
      ok = false;
    }
    return ok;
  }

  /// `f32` or `f32[2, 3]`; false after errors.
  bool lowerF32(const TypeSpec &t, std::vector<int64_t> &dims) {
    if (t.name != "f32") {
      diags.error(t.loc, "unknown type '" + t.name + "'");
      std::string guess = suggest(t.name, {"f32"});
      diags.help(t.loc, guess.empty() ? "the element type is 'f32', as in "
                                        "'f32[784]'"
                                      : "did you mean 'f32'?");
      return false;
    }
    if (!t.args.empty()) {
      diags.error(spanOf(*t.args[0]), "'f32' takes no arguments; write the "
                                      "shape in brackets, as in 'f32[10]'");
      return false;
    }
    return lowerDims(t, dims);
  }

  NodeId lowerDecl(const Stmt &s) {
    Node n = makeNode(s.kind == Stmt::Kind::Input   ? OpKind::Input
                      : s.kind == Stmt::Kind::Label ? OpKind::Label
                                                    : OpKind::Param,
                      {}, s.nameLoc);
    n.name = s.name;
    std::vector<int64_t> dims;
    if (s.kind == Stmt::Kind::Label)
      return lowerLabel(s, n);
    if (!lowerF32(s.type, dims))
      return kPoison;
    if (s.kind == Stmt::Kind::Input) {
      dims.insert(dims.begin(), kBatch);
      n.type = TensorType::of(dims);
      return g.add(std::move(n));
    }
    n.type = TensorType::of(dims);
    if (!lowerInit(s, n))
      return kPoison;
    return g.add(std::move(n));
  }

  NodeId lowerLabel(const Stmt &s, Node &n) {
    const TypeSpec &t = s.type;
    auto noArgs = [&]() {
      if (t.args.empty())
        return true;
      diags.error(spanOf(*t.args[0]), "'" + t.name + "' takes no arguments");
      return false;
    };
    auto noDims = [&]() {
      if (!t.hasDims)
        return true;
      diags.error(t.dims.empty() ? t.loc : spanOf(*t.dims[0]),
                  "a '" + t.name + "' label has no shape");
      return false;
    };
    if (t.name == "binary") {
      if (!noArgs() || !noDims())
        return kPoison;
      n.labelKind = LabelKind::Binary;
      n.type = TensorType::of({kBatch});
    } else if (t.name == "class") {
      if (t.args.size() != 1) {
        diags.error(t.loc, "'class' takes the number of classes, as in "
                           "'class(10)'");
        return kPoison;
      }
      std::optional<int64_t> k = integerValue(*t.args[0]);
      if (!k || *k < 2) {
        diags.error(spanOf(*t.args[0]),
                    "number of classes must be an integer of at least 2");
        return kPoison;
      }
      if (!noDims())
        return kPoison;
      n.labelKind = LabelKind::Class;
      n.classes = *k;
      n.type = TensorType::of({kBatch}, DType::I32);
    } else if (t.name == "real") {
      std::vector<int64_t> dims = {kBatch};
      if (!noArgs() || !lowerDims(t, dims))
        return kPoison;
      n.labelKind = LabelKind::Real;
      n.type = TensorType::of(dims);
    } else {
      diags.error(t.loc, "unknown label type '" + t.name + "'");
      std::string guess = suggest(t.name, {"binary", "class", "real"});
      diags.help(t.loc, guess.empty()
                            ? "a label is 'binary', 'class(N)' or 'real'"
                            : "did you mean '" + guess + "'?");
      return kPoison;
    }
    return g.add(std::move(n));
  }

  NodeId lowerBind(const Stmt &s) {
    const Expr &e = *s.value;
    if (e.kind == Expr::Kind::Call && e.text == "dense")
      return lowerDense(s.name, e);
    if (e.kind == Expr::Kind::Call && e.text == "layer_norm")
      return lowerLayerNorm(s.name, e);
    if (e.kind == Expr::Kind::Call && e.text == "conv2d")
      return lowerConv2d(s.name, e);
    if (e.kind == Expr::Kind::Call && e.text == "batch_norm")
      return lowerBatchNorm(s.name, e);
    NodeId start = g.size();
    NodeId id = lowerExpr(e);
    if (id != kPoison && id >= start && g[id].name.empty())
      g[id].name = s.name;
    return id;
  }

  void lowerLoss(const Stmt &s) {
    NodeId start = g.size();
    inLoss = true;
    firstPred.reset();
    NodeId id = lowerExpr(*s.value);
    inLoss = false;
    if (id == kPoison)
      return;
    if (!firstPred) {
      diags.error(s.loc, "the loss must call a loss function: bce, "
                         "bce_logits, cross_entropy, softmax_cross_entropy "
                         "or mse");
      return;
    }
    if (id >= start)
      g[id].name = "loss";
    g.outputs.push_back({"loss", id});
    g.outputs.push_back({"pred", *firstPred});
  }

  std::string file;
  Recipe recipe;
  const Stmt *lossStmt = nullptr;
  bool brokenLoss = false;
  const Stmt *trainStmt = nullptr;
};

} // namespace

std::optional<Model> lower(const Program &prog, const std::string &file,
                           DiagEngine &diags) {
  return Lowerer(file, diags).run(prog);
}

} // namespace nn
