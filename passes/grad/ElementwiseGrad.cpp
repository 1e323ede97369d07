//===- ElementwiseGrad.cpp - Gradient rules of the elementwise ops
//---------===//
///
/// \file
/// The rule of every elementwise op (one complete switch over
/// ElementwiseOp), and the masked form of the activations' gradient with its
/// matcher. Binary ops sum their contributions back over broadcast axes.
/// This file, ir/Ops.def and ir/ElementwiseMath.h are the places that name
/// individual elementwise ops.
///
//===----------------------------------------------------------------------===//

#include "passes/grad/ElementwiseGrad.h"
#include "passes/grad/GradContext.h"

#include "passes/FuseUtil.h"

#include "ir/Attributes.h"
#include "ir/Support.h"

namespace nn {

namespace {
/// gelu's constants, as ir/ElementwiseMath.h writes them: 1/sqrt(2) and
/// 1/sqrt(2 pi); the builder and the matcher read the same ones.
constexpr double kInvSqrt2 = 0.70710678118654752;
constexpr double kInvSqrt2Pi = 0.39894228040143268;
} // namespace

NodeId buildMaskedGrad(Builder &b, Activation act, NodeId dy, NodeId z,
                       NodeId a, double slope) {
  switch (act) {
  // d/dz sigmoid(z) = a*(1-a)
  case Activation::Sigmoid: {
    NodeId oneMinus = b.binary(OpKind::Sub, b.constant(1.0), a);
    return b.binary(OpKind::Mul, dy, b.binary(OpKind::Mul, a, oneMinus));
  }
  // d/dz relu(z) = step(z)
  case Activation::Relu:
    return b.binary(OpKind::Mul, dy, b.unary(OpKind::Step, z));
  // d/dz tanh(z) = 1 - a*a
  case Activation::Tanh: {
    NodeId aa = b.binary(OpKind::Mul, a, a);
    return b.binary(OpKind::Mul, dy,
                    b.binary(OpKind::Sub, b.constant(1.0), aa));
  }
  // d/dz softsign(z) = 1/(1+|z|)^2 = (1-|a|)^2
  case Activation::Softsign: {
    NodeId m = b.binary(OpKind::Sub, b.constant(1.0), b.unary(OpKind::Abs, a));
    return b.binary(OpKind::Mul, dy, b.binary(OpKind::Mul, m, m));
  }
  // d/dz softplus(z) = sigmoid(z) = 1 - exp(-a)
  case Activation::Softplus: {
    NodeId e = b.unary(OpKind::Exp, b.unary(OpKind::Neg, a));
    return b.binary(OpKind::Mul, dy, b.binary(OpKind::Sub, b.constant(1.0), e));
  }
  // d/dz leaky_relu(z) = z > 0 ? 1 : slope = step(a) + slope * (1 - step(a))
  // (exact: 1 + slope*0, or 0 + slope*1)
  case Activation::LeakyRelu: {
    NodeId s = b.unary(OpKind::Step, a);
    NodeId off = b.binary(OpKind::Mul, b.constant(slope),
                          b.binary(OpKind::Sub, b.constant(1.0), s));
    return b.binary(OpKind::Mul, dy, b.binary(OpKind::Add, s, off));
  }
  // d/dz gelu(z) = Phi(z) + z * phi(z)
  //   = 0.5 * (1 + erf(z * (1/sqrt 2))) + z * ((1/sqrt(2 pi)) * exp(-0.5 * (z*z)))
  case Activation::Gelu: {
    NodeId erf =
        b.unary(OpKind::Erf, b.binary(OpKind::Mul, z, b.constant(kInvSqrt2)));
    NodeId phi = b.binary(OpKind::Mul, b.constant(0.5),
                          b.binary(OpKind::Add, b.constant(1.0), erf));
    NodeId ex = b.unary(OpKind::Exp,
                        b.binary(OpKind::Mul, b.constant(-0.5),
                                 b.binary(OpKind::Mul, z, z)));
    NodeId density = b.binary(OpKind::Mul, b.constant(kInvSqrt2Pi), ex);
    NodeId d = b.binary(OpKind::Add, phi, b.binary(OpKind::Mul, z, density));
    return b.binary(OpKind::Mul, dy, d);
  }
  // d/dz silu(z) = s * (1 + z * (1 - s)), s = sigmoid(z)
  case Activation::Silu: {
    NodeId s = b.unary(OpKind::Sigmoid, z);
    NodeId inner = b.binary(OpKind::Mul, z,
                            b.binary(OpKind::Sub, b.constant(1.0), s));
    NodeId d = b.binary(OpKind::Mul, s,
                        b.binary(OpKind::Add, b.constant(1.0), inner));
    return b.binary(OpKind::Mul, dy, d);
  }
  case Activation::None:
    break;
  }
  NN_UNREACHABLE("masked gradient of activation 'none'");
}

namespace {

bool isConst(const FuseContext &c, NodeId id, double v) {
  return c.isScalarConst(id) && c.constValue(id) == v;
}

bool isOne(const FuseContext &c, NodeId id) { return isConst(c, id, 1.0); }

/// Whether `a` is the output of activation `act`.
bool isActivation(const FuseContext &c, NodeId a, Activation act) {
  return activationOf(c.g[a].op) == act;
}

/// The operand of binary node `id` of op `op` other than one for which
/// `first` holds (either order: for add and mul, which commute, as the
/// builder's order may not survive CSE), or -1. `first` sees the operand
/// and returns whether it is the expected one.
template <class Pred>
NodeId otherOperand(const FuseContext &c, NodeId id, OpKind op, Pred first) {
  if (!c.is(id, op))
    return -1;
  const Node &n = c.g[id];
  for (int k = 0; k < 2; ++k)
    if (first(n.inputs[k]))
      return n.inputs[1 - k];
  return -1;
}

/// `z` when `z` is the input of an `act` node: the forward op whose
/// derivative, written in its input (gradFromInput), was matched.
NodeId activationInput(const FuseContext &c, NodeId z, Activation act) {
  for (NodeId u : c.users[z])
    if (isActivation(c, u, act))
      return z;
  return -1;
}

/// Softplus: 1 - exp(-a).
NodeId matchSoftplus(const FuseContext &c, NodeId f) {
  const Graph &g = c.g;
  if (!c.is(f, OpKind::Sub) || !isOne(c, g[f].inputs[0]) ||
      !c.is(g[f].inputs[1], OpKind::Exp))
    return -1;
  NodeId neg = g[g[f].inputs[1]].inputs[0];
  if (!c.is(neg, OpKind::Neg))
    return -1;
  NodeId a = g[neg].inputs[0];
  return isActivation(c, a, Activation::Softplus) ? a : -1;
}

/// LeakyRelu: s + slope * (1 - s), s = step(a), the constant the slope of a.
NodeId matchLeakyRelu(const FuseContext &c, NodeId f) {
  const Graph &g = c.g;
  NodeId s = -1;
  NodeId off = otherOperand(c, f, OpKind::Add, [&](NodeId x) {
    return c.is(x, OpKind::Step) ? (s = x, true) : false;
  });
  if (off < 0)
    return -1;
  NodeId a = g[s].inputs[0];
  if (!isActivation(c, a, Activation::LeakyRelu))
    return -1;
  NodeId rest = otherOperand(
      c, off, OpKind::Mul, [&](NodeId x) { return isConst(c, x, g[a].param); });
  bool ok = rest >= 0 && c.is(rest, OpKind::Sub) &&
            isOne(c, g[rest].inputs[0]) && g[rest].inputs[1] == s;
  return ok ? a : -1;
}

/// z when `phi` is 0.5 * (1 + erf(z * kInvSqrt2)), else -1.
NodeId matchGeluPhi(const FuseContext &c, NodeId phi) {
  NodeId sum = otherOperand(c, phi, OpKind::Mul,
                            [&](NodeId x) { return isConst(c, x, 0.5); });
  NodeId erf = sum < 0 ? -1 : otherOperand(c, sum, OpKind::Add, [&](NodeId x) {
    return isOne(c, x);
  });
  if (erf < 0 || !c.is(erf, OpKind::Erf))
    return -1;
  return otherOperand(c, c.g[erf].inputs[0], OpKind::Mul,
                      [&](NodeId x) { return isConst(c, x, kInvSqrt2); });
}

/// Whether `t` is z * (kInvSqrt2Pi * exp(-0.5 * (z * z))).
bool isGeluDensityTerm(const FuseContext &c, NodeId t, NodeId z) {
  const Graph &g = c.g;
  NodeId density =
      otherOperand(c, t, OpKind::Mul, [&](NodeId x) { return x == z; });
  NodeId ex =
      density < 0 ? -1 : otherOperand(c, density, OpKind::Mul, [&](NodeId x) {
        return isConst(c, x, kInvSqrt2Pi);
      });
  if (ex < 0 || !c.is(ex, OpKind::Exp))
    return false;
  NodeId sq = otherOperand(c, g[ex].inputs[0], OpKind::Mul,
                           [&](NodeId x) { return isConst(c, x, -0.5); });
  return sq >= 0 && c.is(sq, OpKind::Mul) && g[sq].inputs[0] == z &&
         g[sq].inputs[1] == z;
}

/// Gelu: phi + z * density (matchGeluPhi, isGeluDensityTerm); returns z.
NodeId matchGelu(const FuseContext &c, NodeId f) {
  if (!c.is(f, OpKind::Add))
    return -1;
  const Node &n = c.g[f];
  for (int k = 0; k < 2; ++k) {
    NodeId z = matchGeluPhi(c, n.inputs[k]);
    if (z >= 0 && isGeluDensityTerm(c, n.inputs[1 - k], z))
      return activationInput(c, z, Activation::Gelu);
  }
  return -1;
}

/// Silu: s * (1 + z * (1 - s)), s = sigmoid(z); returns z.
NodeId matchSilu(const FuseContext &c, NodeId f) {
  const Graph &g = c.g;
  NodeId s = -1;
  NodeId inner = otherOperand(c, f, OpKind::Mul, [&](NodeId x) {
    return c.is(x, OpKind::Sigmoid) ? (s = x, true) : false;
  });
  NodeId prod = inner < 0 ? -1
                          : otherOperand(c, inner, OpKind::Add,
                                         [&](NodeId x) { return isOne(c, x); });
  if (prod < 0)
    return -1;
  NodeId z = g[s].inputs[0];
  NodeId oneMinus =
      otherOperand(c, prod, OpKind::Mul, [&](NodeId x) { return x == z; });
  bool ok = oneMinus >= 0 && c.is(oneMinus, OpKind::Sub) &&
            isOne(c, g[oneMinus].inputs[0]) && g[oneMinus].inputs[1] == s;
  return ok ? activationInput(c, z, Activation::Silu) : -1;
}

/// The activation output `a` whose derivative factor `f` is, for `act`'s
/// form in buildMaskedGrad (its input z for an activation whose derivative
/// is written in its input); -1 when `f` is not of that form.
NodeId matchFactor(const FuseContext &c, Activation act, NodeId f) {
  const Graph &g = c.g;
  const Node &n = g[f];
  switch (act) {
  case Activation::Sigmoid: // a * (1 - a), either order
    if (n.op != OpKind::Mul)
      return -1;
    for (int k = 0; k < 2; ++k) {
      NodeId a = n.inputs[k], rest = n.inputs[1 - k];
      if (isActivation(c, a, act) && c.is(rest, OpKind::Sub) &&
          isOne(c, g[rest].inputs[0]) && g[rest].inputs[1] == a)
        return a;
    }
    return -1;
  case Activation::Relu: // step(z), a = relu(z) a user of z
    if (n.op != OpKind::Step)
      return -1;
    for (NodeId u : c.users[n.inputs[0]])
      if (isActivation(c, u, act))
        return u;
    return -1;
  case Activation::Tanh: { // 1 - a * a
    if (n.op != OpKind::Sub || !isOne(c, n.inputs[0]))
      return -1;
    NodeId sq = n.inputs[1];
    if (c.is(sq, OpKind::Mul) && g[sq].inputs[0] == g[sq].inputs[1] &&
        isActivation(c, g[sq].inputs[0], act))
      return g[sq].inputs[0];
    return -1;
  }
  case Activation::Softsign: { // m * m, m = 1 - abs(a)
    if (n.op != OpKind::Mul)
      return -1;
    NodeId m = n.inputs[0];
    if (n.inputs[1] != m || !c.is(m, OpKind::Sub) ||
        !isOne(c, g[m].inputs[0]) || !c.is(g[m].inputs[1], OpKind::Abs))
      return -1;
    NodeId a = g[g[m].inputs[1]].inputs[0];
    return isActivation(c, a, act) ? a : -1;
  }
  case Activation::Softplus:
    return matchSoftplus(c, f);
  case Activation::LeakyRelu:
    return matchLeakyRelu(c, f);
  case Activation::Gelu:
    return matchGelu(c, f);
  case Activation::Silu:
    return matchSilu(c, f);
  case Activation::None:
    break;
  }
  return -1;
}

} // namespace

MaskedGrad matchMaskedGrad(const FuseContext &c, NodeId dz) {
  const Node &n = c.g[dz];
  if (n.op != OpKind::Mul || n.inputs[0] == n.inputs[1])
    return {};
  for (int k = 1; k >= 0; --k)
    for (Activation act : allActivations()) {
      NodeId a = matchFactor(c, act, n.inputs[k]);
      if (a >= 0)
        return {act, n.inputs[1 - k], a,
                hasSlope(opOf(activationOp(act))) ? c.g[a].param : 0.0};
    }
  return {};
}

NodeId GradContext::neg(NodeId a) { return unary(OpKind::Neg, a); }
NodeId GradContext::log(NodeId a) { return unary(OpKind::Log, a); }
NodeId GradContext::sigmoid(NodeId a) { return unary(OpKind::Sigmoid, a); }

namespace {

// d/da erf(a) = 2/sqrt(pi) * exp(-a*a)
void erfGrad(GradContext &c, NodeId dy, NodeId a) {
  NodeId ex =
      c.unary(OpKind::Exp, c.unary(OpKind::Neg, c.binary(OpKind::Mul, a, a)));
  c.contribute(
      a, c.binary(OpKind::Mul, dy,
                  c.binary(OpKind::Mul, c.b.constant(1.1283791670955126), ex)));
}

// d/da a*b = b, d/db a*b = a;  d/da a*a = 2a
void mulGrad(GradContext &c, NodeId dy, NodeId a, NodeId d) {
  if (a == d) {
    NodeId twice = c.binary(OpKind::Mul, c.b.constant(2.0), a);
    c.contribute(a, c.unbroadcast(c.binary(OpKind::Mul, dy, twice), a));
    return;
  }
  if (c.wants(a))
    c.contribute(a, c.unbroadcast(c.binary(OpKind::Mul, dy, d), a));
  if (c.wants(d))
    c.contribute(d, c.unbroadcast(c.binary(OpKind::Mul, dy, a), d));
}

// d/da a/b = 1/b, d/db a/b = -a/b^2 = -(a/b)/b (reusing the quotient `id`)
void divGrad(GradContext &c, NodeId id, NodeId dy, NodeId a, NodeId d) {
  if (c.wants(a))
    c.contribute(a, c.unbroadcast(c.binary(OpKind::Div, dy, d), a));
  if (c.wants(d)) {
    NodeId q = c.binary(OpKind::Div, c.binary(OpKind::Mul, dy, id), d);
    c.contribute(d, c.unbroadcast(c.unary(OpKind::Neg, q), d));
  }
}

} // namespace

void elementwiseGrad(GradContext &c, NodeId id, NodeId dy) {
  // Copies: appending nodes may move the graph's storage.
  const OpKind kind = c.g[id].op;
  const std::vector<NodeId> in = c.g[id].inputs;
  const ElementwiseOp op = member<ElementwiseOp>(kind);
  NodeId a = in[0];
  NodeId d = in.size() < 2 ? -1 : in[1];

  switch (op) {
  // d/da -a = -1
  case ElementwiseOp::Neg:
    c.contribute(a, c.unary(OpKind::Neg, dy));
    return;
  // d/da exp(a) = exp(a): reuse the forward node
  case ElementwiseOp::Exp:
    c.contribute(a, c.binary(OpKind::Mul, dy, id));
    return;
  // d/da log(a) = 1/a
  case ElementwiseOp::Log:
    c.contribute(a, c.binary(OpKind::Div, dy, a));
    return;
  // activations: dy * act'(a), the form the dense-grad fusion matches
  case ElementwiseOp::Sigmoid:
  case ElementwiseOp::Relu:
  case ElementwiseOp::Tanh:
  case ElementwiseOp::Softsign:
  case ElementwiseOp::Gelu:
  case ElementwiseOp::Silu:
  case ElementwiseOp::Softplus:
  case ElementwiseOp::LeakyRelu:
    c.contribute(a, buildMaskedGrad(c.b, *activationOf(kind), dy, a, id,
                                    c.g[id].param));
    return;
  // d/da sqrt(a) = 1 / (2 sqrt(a)) = 0.5 / y
  case ElementwiseOp::Sqrt:
    c.contribute(a, c.binary(OpKind::Div,
                             c.binary(OpKind::Mul, dy, c.b.constant(0.5)), id));
    return;
  case ElementwiseOp::Erf:
    return erfGrad(c, dy, a);
  // d/da step(a) = 0 (almost everywhere): nothing flows back
  case ElementwiseOp::Step:
    return;
  // d/da |a| = sign(a) = step(a) - step(-a) (0 at 0, as PyTorch)
  case ElementwiseOp::Abs: {
    NodeId sign = c.binary(OpKind::Sub, c.unary(OpKind::Step, a),
                           c.unary(OpKind::Step, c.unary(OpKind::Neg, a)));
    c.contribute(a, c.binary(OpKind::Mul, dy, sign));
    return;
  }
  // d/da a+b = 1, d/db a+b = 1 (summed back over broadcast axes)
  case ElementwiseOp::Add:
    if (c.wants(a))
      c.contribute(a, c.unbroadcast(dy, a));
    if (c.wants(d))
      c.contribute(d, c.unbroadcast(dy, d));
    return;
  // d/da a-b = 1, d/db a-b = -1
  case ElementwiseOp::Sub:
    if (c.wants(a))
      c.contribute(a, c.unbroadcast(dy, a));
    if (c.wants(d))
      c.contribute(d, c.unbroadcast(c.unary(OpKind::Neg, dy), d));
    return;
  case ElementwiseOp::Mul:
    return mulGrad(c, dy, a, d);
  case ElementwiseOp::Div:
    return divGrad(c, id, dy, a, d);
  }
  NN_UNREACHABLE("bad ElementwiseOp");
}

} // namespace nn
