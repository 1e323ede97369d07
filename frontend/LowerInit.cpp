//===- LowerInit.cpp - Param initializers ---------------------------------===//
///
/// \file
/// `param w : f32[2, 3] = ...`: a number (one-element params), a list of
/// values (row-major; nested lists, one per row, or one flat list), or an
/// initializer: zeros, constant(v), uniform(low, high), normal(mean, std),
/// xavier, he. Without one: xavier for rank >= 2, zeros otherwise.
///
//===----------------------------------------------------------------------===//

#include "frontend/Lower.h"
#include "frontend/LowerExpr.h"
#include "frontend/Suggest.h"
#include "ir/Support.h"

#include <algorithm>

namespace nn {

namespace {

const std::vector<std::string> kInitNames = {"zeros",  "constant", "uniform",
                                             "normal", "xavier",   "he"};

std::string count(size_t n) {
  return std::to_string(n) + (n == 1 ? " value" : " values");
}

} // namespace

bool ExprLowerer::flatten(const Expr &list, const std::vector<int64_t> &dims,
                          size_t depth, std::vector<double> &out) {
  std::string type = TensorType::of(dims).str();
  bool nested = false;
  for (const ExprPtr &a : list.args)
    nested |= a->kind == Expr::Kind::List;
  // One flat list of every value, row-major.
  if (depth == 0 && !nested) {
    size_t want = static_cast<size_t>(TensorType::of(dims).numel());
    if (list.args.size() != want) {
      diags.error(list.loc, "initializer has " + count(list.args.size()) +
                                " but " + type + " needs " +
                                std::to_string(want));
      return false;
    }
  } else if (depth >= dims.size() ||
             list.args.size() != static_cast<size_t>(dims[depth])) {
    if (depth >= dims.size())
      diags.error(list.loc, "too many nested lists for " + type);
    else if (depth == 0)
      diags.error(list.loc, "initializer has " + count(list.args.size()) +
                                " but " + type + " needs " +
                                std::to_string(dims[0]) + " rows");
    else
      diags.error(list.loc, "expected " + count(dims[depth]) +
                                " in this list, got " +
                                std::to_string(list.args.size()));
    return false;
  }
  bool leaf = !nested && (depth == 0 || depth + 1 >= dims.size());
  bool ok = true;
  for (const ExprPtr &a : list.args) {
    double v;
    if (leaf && a->constant(v)) {
      ok &= fitsF32(*a, v);
      out.push_back(v);
    } else if (!leaf && a->kind == Expr::Kind::List) {
      ok &= flatten(*a, dims, depth + 1, out);
    } else {
      diags.error(spanOf(*a),
                  leaf ? "expected a number"
                       : "expected a list of " + count(dims[depth + 1]));
      ok = false;
    }
  }
  return ok;
}

namespace {

/// What the initializer called `name` takes, for "'normal' needs ...".
std::string initArguments(const std::string &name) {
  if (name == "constant")
    return "a value, as in 'constant(0.1)'";
  if (name == "uniform")
    return "bounds, as in 'uniform(-0.1, 0.1)'";
  return "a mean and a standard deviation, as in 'normal(0, 0.01)'";
}

/// How many numbers the initializer called `name` takes.
size_t initArity(const std::string &name) {
  if (name == "constant")
    return 1;
  return name == "uniform" || name == "normal" ? 2 : 0;
}

/// The kind of a known initializer name.
InitKind initKindNamed(const std::string &name) {
  for (InitKind k : {InitKind::Zeros, InitKind::Constant, InitKind::Uniform,
                     InitKind::Normal, InitKind::Xavier, InitKind::He})
    if (name == initName(k))
      return k;
  NN_UNREACHABLE("unknown initializer '" + name + "'");
}

} // namespace

bool ExprLowerer::lowerInit(const Stmt &s, Node &n) {
  const std::vector<int64_t> &dims = n.type.dims;
  if (!s.value) {
    n.init.kind = dims.size() >= 2 ? InitKind::Xavier : InitKind::Zeros;
    return true;
  }
  const Expr &v = *s.value;
  double c;
  if (v.constant(c)) {
    if (n.type.numel() != 1) {
      diags.error(spanOf(v), "initializer has 1 value but " + n.type.str() +
                                 " needs " + std::to_string(n.type.numel()));
      std::string spelled =
          v.kind == Expr::Kind::Number ? v.text : "-" + v.args[0]->text;
      diags.help(spanOf(v), "write 'constant(" + spelled +
                                ")' to give every element that value");
      return false;
    }
    if (!fitsF32(v, c))
      return false;
    n.init.kind = InitKind::Values;
    n.values = {c};
    return true;
  }
  if (v.kind == Expr::Kind::List) {
    std::vector<double> values;
    if (!flatten(v, dims, 0, values))
      return false;
    n.init.kind = InitKind::Values;
    n.values = std::move(values);
    return true;
  }
  if (v.kind != Expr::Kind::Name && v.kind != Expr::Kind::Call) {
    diags.error(spanOf(v), "expected an initializer: a number, a list of "
                           "values, zeros, constant(v), uniform(low, high), "
                           "normal(mean, std), xavier or he");
    return false;
  }
  const std::string &name = v.text;
  size_t want = initArity(name);
  if (std::find(kInitNames.begin(), kInitNames.end(), name) ==
      kInitNames.end()) {
    diags.error(v.loc, "unknown initializer '" + name + "'");
    std::string guess = suggest(name, kInitNames);
    diags.help(v.loc, guess.empty()
                          ? "the initializers are zeros, constant(v), "
                            "uniform(low, high), normal(mean, std), xavier "
                            "and he"
                          : "did you mean '" + guess + "'?");
    return false;
  }
  if (v.kind == Expr::Kind::Name && want > 0) {
    diags.error(v.loc, "'" + name + "' needs " + initArguments(name));
    return false;
  }
  if (v.kind == Expr::Kind::Call && !checkArgs(v, want, {}))
    return false;
  double args[2] = {0, 0};
  for (size_t i = 0; i < want; ++i) {
    if (!v.args[i]->constant(args[i])) {
      diags.error(spanOf(*v.args[i]), "expected a number");
      return false;
    }
    if (!fitsF32(*v.args[i], args[i]))
      return false;
  }
  n.init.a = args[0];
  n.init.b = args[1];
  n.init.kind = initKindNamed(name);
  if (name == "uniform" && !(args[0] < args[1])) {
    diags.error(v.loc, "uniform needs low < high");
    return false;
  }
  if (name == "normal" && !(args[1] > 0)) {
    diags.error(spanOf(*v.args[1]), "standard deviation must be positive");
    return false;
  }
  return true;
}

} // namespace nn
