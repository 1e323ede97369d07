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

/// The value of fused update op `op` on one element: `args` are its
/// operands' elements, tensors then scalars, in Ops.def's order.
///   fused.sgd_momentum(v, g, mu)     = mu * v + g
///   fused.sgd(w, s, lr)              = w - lr * s
///   fused.adam_moment(m, g, b1)      = b1 * m + (1 - b1) * g
///   fused.adam_variance(v, g, b2)    = b2 * v + (1 - b2) * (g * g)
///   fused.adam(w, m, v, decay, step, c2, eps)
///                                    = w * decay - step * (m / (sqrt(v) / c2 + eps))
template <class E>
typename E::Value emitUpdate(E &e, UpdateOp op,
                             std::span<const typename E::Value> args) {
  NN_ASSERT(static_cast<int>(args.size()) == opInfo(opOf(op)).arity,
            std::string("wrong operand count for ") + mnemonic(opOf(op)));
  switch (op) {
  case UpdateOp::SgdMomentum:
    return e.add(e.mul(args[2], args[0]), args[1]);
  case UpdateOp::Sgd:
    return e.sub(args[0], e.mul(args[2], args[1]));
  case UpdateOp::AdamMoment:
    return e.add(e.mul(args[2], args[0]),
                 e.mul(e.sub(e.constant(1.0), args[2]), args[1]));
  case UpdateOp::AdamVariance:
    return e.add(e.mul(args[2], args[0]),
                 e.mul(e.sub(e.constant(1.0), args[2]),
                       e.mul(args[1], args[1])));
  case UpdateOp::Adam: {
    auto denom = e.add(e.div(e.sqrt(args[2]), args[5]), args[6]);
    return e.sub(e.mul(args[0], args[3]),
                 e.mul(args[4], e.div(args[1], denom)));
  }
  }
  NN_UNREACHABLE("bad UpdateOp");
}

/// One element of fused.sigmoid_bce_grad: (sigmoid(z) - y) * scale, where
/// scale = g / numel(z).
template <class E>
typename E::Value emitSigmoidBceGrad(E &e, typename E::Value z,
                                     typename E::Value y,
                                     typename E::Value scale) {
  return e.mul(e.sub(emitSigmoid(e, z), y), scale);
}

/// One element of fused.softmax_xent_grad: (p - hot) * scale, where p is the
/// softmax, hot the one-hot label and scale = g / rows.
template <class E>
typename E::Value emitSoftmaxXentGrad(E &e, typename E::Value p,
                                      typename E::Value hot,
                                      typename E::Value scale) {
  return e.mul(e.sub(p, hot), scale);
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
        e, s.op, std::span<const typename E::Value>(args.data(), args.size()),
        s.value));
  }
  return steps.back();
}

} // namespace nn
