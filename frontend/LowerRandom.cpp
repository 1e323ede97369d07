//===- LowerRandom.cpp - dropout(x, p) to a graph node --------------------===//
///
/// \file
/// Algorithm: check the call's form (x and p, p positional or `p = `, a
/// number literal in [0, 1)), lower x, and add a dropout node reading x,
/// the step count (the scalar State leaf "optimizer.step" that the
/// optimizer advances) and the global batch row of x's row 0 (the scalar
/// State leaf "optimizer.first_row", 0 but under mpirun), with p, and the
/// stream: how many dropouts the model made before this one.
/// The seed is the run's and is set later (passes/SeedDropout.h), so that
/// --seed reaches it.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerExpr.h"

#include "frontend/Lower.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/optim/Optimizer.h"

#include <algorithm>

namespace nn {

namespace {

/// What a bad p is, for the error under it; "" when p is fine.
std::string badProbability(const Expr &e, double &p) {
  if (!e.constant(p))
    return "dropout's p must be a number literal in [0, 1), as in "
           "'dropout(h, 0.2)'";
  if (!(p >= 0 && p < 1))
    return "dropout's p must be in [0, 1) (the probability of dropping an "
           "element), got " +
           formatDouble(p);
  return "";
}

} // namespace

NodeId ExprLowerer::lowerRandomCall(OpKind op, const Expr &e) {
  switch (member<RandomOp>(op)) {
  case RandomOp::Dropout: {
    // dropout(x, 0.2) or dropout(x, p = 0.2), as F.dropout.
    const KwArg *pk = e.kwarg("p");
    if (pk && e.args.size() == 2) {
      diags.error(pk->loc, "dropout's p is given twice");
      return kPoison;
    }
    if (!checkArgs(e, pk ? 1 : 2, {"p"}))
      return kPoison;
    const Expr &pe = pk ? *pk->value : *e.args[1];
    double p = 0;
    std::string bad = badProbability(pe, p);
    if (!bad.empty()) {
      diags.error(spanOf(pe), bad);
      lowerExpr(*e.args[0]); // its own errors, if any
      return kPoison;
    }
    NodeId x = lowerExpr(*e.args[0]);
    if (x == kPoison)
      return kPoison;
    int64_t stream =
        std::count_if(g.nodes.begin(), g.nodes.end(),
                      [](const Node &n) { return n.op == OpKind::Dropout; });
    NodeId step = stepLeaf(g);
    Node n = makeNode(op, {x, step, firstRowLeaf(g)}, e.loc);
    n.param = p;
    n.stream = stream;
    n.type = typeOf(n);
    return g.add(std::move(n));
  }
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn
