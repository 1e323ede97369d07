//===- ElementwiseMath.h - Scalar semantics of elementwise ops -*- C++ -*-===//
///
/// \file
/// The scalar math of every elementwise op and of the stable loss terms,
/// written once as templates over an emitter, and used by the interpreter
/// (double), the LLVM emitter (llvm::Value*) and the CUDA printer (strings).
///
/// An emitter `E` has a type `E::Value` and these members (all may be
/// non-static: the LLVM emitter needs its IRBuilder):
///
///   Value constant(double c);
///   Value neg(Value a);
///   Value add(Value a, Value b);   sub, mul, div likewise
///   Value exp(Value a);            log, log1p, tanh, sqrt, erf likewise
///   /// a > b ? t : f  (an ordered comparison: false when either is NaN)
///   Value selectGt(Value a, Value b, Value t, Value f);
///
/// Everything here is built from those primitives only, so a backend gets the
/// same formulas as the interpreter, with the same care for overflow.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Support.h"

#include <cmath>
#include <span>

namespace nn {

/// The emitter of the reference interpreter: plain double arithmetic.
struct DoubleEmitter {
  using Value = double;
  Value constant(double c) { return c; }
  Value neg(Value a) { return -a; }
  Value add(Value a, Value b) { return a + b; }
  Value sub(Value a, Value b) { return a - b; }
  Value mul(Value a, Value b) { return a * b; }
  Value div(Value a, Value b) { return a / b; }
  Value exp(Value a) { return std::exp(a); }
  /// log(0) = -inf, log(x < 0) = NaN: honest IEEE results.
  Value log(Value a) { return std::log(a); }
  Value log1p(Value a) { return std::log1p(a); }
  Value tanh(Value a) { return std::tanh(a); }
  Value sqrt(Value a) { return std::sqrt(a); }
  Value erf(Value a) { return std::erf(a); }
  Value selectGt(Value a, Value b, Value t, Value f) { return a > b ? t : f; }
};

/// max(a, b); b when either is NaN.
template <class E>
typename E::Value emitMax(E &e, typename E::Value a, typename E::Value b) {
  return e.selectGt(a, b, a, b);
}

/// |a|.
template <class E> typename E::Value emitAbs(E &e, typename E::Value a) {
  return e.selectGt(a, e.constant(0.0), a, e.neg(a));
}

/// relu(x) = 0 > x ? 0 : x (so NaN stays NaN, as in PyTorch).
template <class E> typename E::Value emitRelu(E &e, typename E::Value x) {
  return e.selectGt(e.constant(0.0), x, e.constant(0.0), x);
}

/// step(x) = x > 0 ? 1 : 0 (relu's derivative; 0 at the kink).
template <class E> typename E::Value emitStep(E &e, typename E::Value x) {
  return e.selectGt(x, e.constant(0.0), e.constant(1.0), e.constant(0.0));
}

/// sigmoid(x) = 1 / (1 + exp(-x)), stable for any |x|: with t = exp(-|x|)
/// (never overflows), sigmoid = 1/(1+t) for x > 0 and t/(1+t) otherwise.
template <class E> typename E::Value emitSigmoid(E &e, typename E::Value x) {
  auto t = e.exp(e.neg(emitAbs(e, x)));
  auto onePlusT = e.add(e.constant(1.0), t);
  return e.selectGt(x, e.constant(0.0), e.div(e.constant(1.0), onePlusT),
                    e.div(t, onePlusT));
}

/// softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), stable.
template <class E> typename E::Value emitSoftplus(E &e, typename E::Value z) {
  return e.add(emitMax(e, z, e.constant(0.0)),
               e.log1p(e.exp(e.neg(emitAbs(e, z)))));
}

/// gelu(x) = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2))): nn.GELU's exact
/// (erf) form.
template <class E> typename E::Value emitGelu(E &e, typename E::Value x) {
  auto phi = e.mul(e.constant(0.5),
                   e.add(e.constant(1.0),
                         e.erf(e.mul(x, e.constant(0.70710678118654752)))));
  return e.mul(x, phi);
}

/// leaky_relu(x) = x > 0 ? x : slope * x (NaN stays NaN).
template <class E>
typename E::Value emitLeakyRelu(E &e, typename E::Value x, double slope) {
  return e.selectGt(x, e.constant(0.0), x, e.mul(e.constant(slope), x));
}

/// One element of bce on logits: -(y log s(z) + (1-y) log(1-s(z)))
///   = max(z, 0) - z*y + log1p(exp(-|z|)), finite for any finite z.
template <class E>
typename E::Value emitBceLogitsTerm(E &e, typename E::Value z,
                                    typename E::Value y) {
  return e.add(e.sub(emitMax(e, z, e.constant(0.0)), e.mul(z, y)),
               e.log1p(e.exp(e.neg(emitAbs(e, z)))));
}

/// -(y * log(p)), taken as 0 when y == 0 (so 0 * log 0 is 0, not NaN). When
/// y != 0 and p == 0 it is +inf: an honest infinite loss.
template <class E>
typename E::Value emitNegXLogY(E &e, typename E::Value y, typename E::Value p) {
  return e.selectGt(emitAbs(e, y), e.constant(0.0), e.neg(e.mul(y, e.log(p))),
                    e.constant(0.0));
}

/// One element of bce on probabilities: -(y log p + (1-y) log(1-p)), with
/// each product taken as 0 when its weight is 0 (see emitNegXLogY). p is not
/// clamped: p = 0 with y = 1 gives +inf.
template <class E>
typename E::Value emitBceTerm(E &e, typename E::Value p, typename E::Value y) {
  auto one = e.constant(1.0);
  return e.add(emitNegXLogY(e, y, p), emitNegXLogY(e, e.sub(one, y),
                                                   e.sub(one, p)));
}

/// exp(z - m): a softmax / log-sum-exp numerator after subtracting the row
/// max m (so it is at most 1 and never overflows).
template <class E>
typename E::Value emitExpShifted(E &e, typename E::Value z,
                                 typename E::Value m) {
  return e.exp(e.sub(z, m));
}

/// log(sum exp(z)) of a row from its max m and s = sum exp(z - m) >= 1.
template <class E>
typename E::Value emitLogSumExp(E &e, typename E::Value m,
                                typename E::Value s) {
  return e.add(m, e.log(s));
}

/// One element of mse: (p - y)^2.
template <class E>
typename E::Value emitSquaredError(E &e, typename E::Value p,
                                   typename E::Value y) {
  auto d = e.sub(p, y);
  return e.mul(d, d);
}

/// The value of elementwise op `op` on `args` (1 or 2 operands, as Ops.def
/// says); `param` is the op's number (Node::param: leaky_relu's slope).
/// This switch is the one place an elementwise op's value is written; every
/// backend instantiates it.
template <class E>
typename E::Value emitElementwise(E &e, ElementwiseOp op,
                                  std::span<const typename E::Value> args,
                                  double param = 0) {
  NN_ASSERT(static_cast<int>(args.size()) == opInfo(opOf(op)).arity,
            std::string("wrong operand count for ") + mnemonic(opOf(op)));
  switch (op) {
  case ElementwiseOp::Neg:
    return e.neg(args[0]);
  case ElementwiseOp::Exp:
    return e.exp(args[0]);
  case ElementwiseOp::Log:
    return e.log(args[0]);
  case ElementwiseOp::Sigmoid:
    return emitSigmoid(e, args[0]);
  case ElementwiseOp::Relu:
    return emitRelu(e, args[0]);
  case ElementwiseOp::Tanh:
    return e.tanh(args[0]);
  case ElementwiseOp::Step:
    return emitStep(e, args[0]);
  case ElementwiseOp::Abs:
    return emitAbs(e, args[0]);
  case ElementwiseOp::Softsign: // x / (1 + |x|)
    return e.div(args[0], e.add(e.constant(1.0), emitAbs(e, args[0])));
  case ElementwiseOp::Gelu:
    return emitGelu(e, args[0]);
  case ElementwiseOp::Silu: // x * sigmoid(x)
    return e.mul(args[0], emitSigmoid(e, args[0]));
  case ElementwiseOp::Softplus:
    return emitSoftplus(e, args[0]);
  case ElementwiseOp::LeakyRelu:
    return emitLeakyRelu(e, args[0], param);
  case ElementwiseOp::Sqrt:
    return e.sqrt(args[0]);
  case ElementwiseOp::Erf:
    return e.erf(args[0]);
  case ElementwiseOp::Add:
    return e.add(args[0], args[1]);
  case ElementwiseOp::Sub:
    return e.sub(args[0], args[1]);
  case ElementwiseOp::Mul:
    return e.mul(args[0], args[1]);
  case ElementwiseOp::Div:
    return e.div(args[0], args[1]);
  }
  NN_UNREACHABLE("bad ElementwiseOp");
}

/// The same for an OpKind of the elementwise family.
template <class E>
typename E::Value emitElementwise(E &e, OpKind op,
                                  std::span<const typename E::Value> args,
                                  double param = 0) {
  return emitElementwise(e, member<ElementwiseOp>(op), args, param);
}

/// act(x): x itself for Activation::None; `param` as for emitElementwise.
template <class E>
typename E::Value emitActivation(E &e, Activation act, typename E::Value x,
                                 double param = 0) {
  if (act == Activation::None)
    return x;
  return emitElementwise(e, activationOp(act),
                         std::span<const typename E::Value>(&x, 1), param);
}

/// act'(z) written with `a`, the activation's output a = act(z), or, for
/// an activation whose derivative is written in its input (gradFromInput:
/// gelu, silu), with z itself; for the fused backward of a dense layer
/// (ir/Ops.def). relu: step(a) (equal to step(z) for every z, NaN
/// included); sigmoid: a * (1 - a); tanh: 1 - a * a; softsign:
/// (1 - |a|)^2; softplus: 1 - exp(-a) (= sigmoid(z)); leaky_relu:
/// a > 0 ? 1 : slope (slope >= 0, so a > 0 exactly when z > 0); gelu:
/// Phi(z) + z * phi(z); silu: s * (1 + z * (1 - s)), s = sigmoid(z).
/// Autodiff builds the same derivative (buildMaskedGrad in
/// passes/grad/ElementwiseGrad.cpp, checked against this), so the fused
/// backward computes what the unfused graph does. Activation::None has no
/// derivative here (the fusion passes use fused.matmul and sum for it).
template <class E>
typename E::Value emitActivationGrad(E &e, Activation act,
                                     typename E::Value a, double param = 0) {
  switch (act) {
  case Activation::Relu:
    return emitStep(e, a);
  case Activation::Sigmoid:
    return e.mul(a, e.sub(e.constant(1.0), a));
  case Activation::Tanh:
    return e.sub(e.constant(1.0), e.mul(a, a));
  case Activation::Softsign: { // 1 / (1 + |z|)^2 = (1 - |a|)^2
    auto m = e.sub(e.constant(1.0), emitAbs(e, a));
    return e.mul(m, m);
  }
  case Activation::Softplus:
    return e.sub(e.constant(1.0), e.exp(e.neg(a)));
  case Activation::LeakyRelu:
    return e.selectGt(a, e.constant(0.0), e.constant(1.0),
                      e.constant(param));
  case Activation::Gelu: { // z = a here
    auto phi = e.mul(e.constant(0.5),
                     e.add(e.constant(1.0),
                           e.erf(e.mul(a, e.constant(0.70710678118654752)))));
    auto density = e.mul(e.constant(0.39894228040143268),
                         e.exp(e.mul(e.constant(-0.5), e.mul(a, a))));
    return e.add(phi, e.mul(a, density));
  }
  case Activation::Silu: { // z = a here
    auto s = emitSigmoid(e, a);
    return e.mul(s, e.add(e.constant(1.0), e.mul(a, e.sub(e.constant(1.0), s))));
  }
  case Activation::None:
    break;
  }
  NN_UNREACHABLE("activation gradient of 'none'");
}

} // namespace nn
