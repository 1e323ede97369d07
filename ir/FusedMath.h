//===- FusedMath.h - Scalar semantics of the fused ops ---------*- C++ -*-===//
///
/// \file
/// The per-element math of the fused ops of Ops.def (activations, their
/// derivatives from the activation's output, fused.elementwise bodies),
/// written once over the emitters of ir/ElementwiseMath.h so the
/// interpreter and every code generator compute the same formulas.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ElementwiseMath.h"

#include <span>
#include <string>
#include <vector>

namespace nn {

/// act(x): x itself for Activation::None.
template <class E>
typename E::Value emitActivation(E &e, Activation act, typename E::Value x) {
  switch (act) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return emitRelu(e, x);
  case Activation::Sigmoid:
    return emitSigmoid(e, x);
  case Activation::Tanh:
    return e.tanh(x);
  }
  NN_UNREACHABLE("bad Activation");
}

/// act'(z) written with the activation's output a = act(z): relu: step(a)
/// (equal to step(z) for every z, NaN included); sigmoid: a * (1 - a);
/// tanh: 1 - a * a. Activation::None has no derivative here (the fusion
/// passes use fused.matmul and sum for it): an internal error.
template <class E>
typename E::Value emitActivationGrad(E &e, Activation act,
                                     typename E::Value a) {
  switch (act) {
  case Activation::Relu:
    return emitStep(e, a);
  case Activation::Sigmoid:
    return e.mul(a, e.sub(e.constant(1.0), a));
  case Activation::Tanh:
    return e.sub(e.constant(1.0), e.mul(a, a));
  case Activation::None:
    break;
  }
  NN_UNREACHABLE("activation gradient of 'none'");
}

/// da * act'(a): the gradient at the pre-activation of a dense layer, in the
/// order autodiff multiplies it (upstream gradient first).
template <class E>
typename E::Value emitMaskedGrad(E &e, Activation act, typename E::Value da,
                                 typename E::Value a) {
  return e.mul(da, emitActivationGrad(e, act, a));
}

/// Why `body` is not a well-formed fused.elementwise body over `numOperands`
/// operands, or "" when it is: every step an elementwise op with its arity
/// (or a Const without args), every arg an operand or an earlier step.
inline std::string checkFusedBody(const std::vector<ExprStep> &body,
                                  size_t numOperands) {
  if (body.empty())
    return "empty body";
  for (size_t i = 0; i < body.size(); ++i) {
    const ExprStep &s = body[i];
    std::string where = "body step " + std::to_string(i) + ": ";
    if (s.op == OpKind::Const) {
      if (!s.args.empty())
        return where + "a constant takes no arguments";
      continue;
    }
    if (!hasTrait(s.op, kElementwise))
      return where + "'" + mnemonic(s.op) + "' is not elementwise";
    if (static_cast<int>(s.args.size()) != opInfo(s.op).arity)
      return where + "'" + mnemonic(s.op) + "' takes " +
             std::to_string(opInfo(s.op).arity) + " arguments";
    for (int a : s.args) {
      if (a >= 0 && static_cast<size_t>(a) >= numOperands)
        return where + "operand %" + std::to_string(a) + " does not exist";
      if (a < 0 && static_cast<size_t>(-1 - static_cast<int64_t>(a)) >= i)
        return where + "refers to a step that does not come before it";
    }
  }
  return "";
}

/// The value of a fused.elementwise `body` on one element of each operand
/// (`operands[k]` is operand k). The body must be well formed (see
/// checkFusedBody); a bad reference is an internal error.
template <class E>
typename E::Value emitFusedBody(E &e, const std::vector<ExprStep> &body,
                                std::span<const typename E::Value> operands) {
  NN_ASSERT(!body.empty(), "empty fused.elementwise body");
  std::vector<typename E::Value> steps;
  steps.reserve(body.size());
  for (const ExprStep &s : body) {
    if (s.op == OpKind::Const) {
      steps.push_back(e.constant(s.value));
      continue;
    }
    std::vector<typename E::Value> args;
    for (int a : s.args) {
      if (a >= 0) {
        NN_ASSERT(static_cast<size_t>(a) < operands.size(),
                  "fused body refers to a missing operand");
        args.push_back(operands[static_cast<size_t>(a)]);
      } else {
        NN_ASSERT(static_cast<size_t>(-1 - a) < steps.size(),
                  "fused body refers to a later step");
        args.push_back(steps[static_cast<size_t>(-1 - a)]);
      }
    }
    steps.push_back(emitElementwise(
        e, s.op, std::span<const typename E::Value>(args.data(), args.size())));
  }
  return steps.back();
}

} // namespace nn
