//===- ElementwiseText.cpp - Elementwise math as arithmetic text ----------===//
///
/// \file
/// Algorithm: emitElementwise is instantiated twice, once with an emitter
/// that only counts the primitives the op's math uses, once with one that
/// writes each primitive as text. One primitive: its text is the op's; more
/// (a stable formula, a select): the op is written as a call by mnemonic.
///
//===----------------------------------------------------------------------===//

#include "runtime/ElementwiseText.h"
#include "runtime/ScalarStep.h"

#include "ir/Attributes.h"
#include "ir/ElementwiseMath.h"

#include <span>

namespace nn {

namespace {

/// A number as an operand: negative numbers in parentheses.
std::string num(double v) {
  std::string s = scalarText(v);
  return v < 0 ? "(" + s + ")" : s;
}

/// Counts the primitives an op's math applies (constants included).
struct CountingEmitter {
  using Value = int;
  int calls = 0;
  Value constant(double) { return ++calls; }
  Value neg(Value) { return ++calls; }
  Value add(Value, Value) { return ++calls; }
  Value sub(Value, Value) { return ++calls; }
  Value mul(Value, Value) { return ++calls; }
  Value div(Value, Value) { return ++calls; }
  Value exp(Value) { return ++calls; }
  Value log(Value) { return ++calls; }
  Value log1p(Value) { return ++calls; }
  Value tanh(Value) { return ++calls; }
  Value sqrt(Value) { return ++calls; }
  Value erf(Value) { return ++calls; }
  Value selectGt(Value, Value, Value, Value) { return ++calls; }
};

/// The number of primitives op `op`'s math applies.
int primitiveCount(ElementwiseOp op) {
  CountingEmitter c;
  std::vector<int> args(static_cast<size_t>(opInfo(opOf(op)).arity), 0);
  emitElementwise(c, op, std::span<const int>(args.data(), args.size()));
  return c.calls;
}

} // namespace

TextEmitter::Value TextEmitter::constant(double c) { return num(c); }

TextEmitter::Value TextEmitter::selectGt(Value a, Value b, Value t, Value f) {
  if (b == "0" && t == "1" && f == "0")
    return "step(" + a + ")";
  return "(" + a + " > " + b + " ? " + t + " : " + f + ")";
}

std::string activationPrimeText(Activation act, const std::string &a,
                                double param) {
  TextEmitter t;
  return emitActivationGrad(t, act, a, param);
}

std::string elementwiseOpText(ElementwiseOp op,
                              const std::vector<std::string> &args,
                              double param) {
  if (primitiveCount(op) == 1) {
    TextEmitter t;
    return emitElementwise(
        t, op, std::span<const std::string>(args.data(), args.size()), param);
  }
  std::string r = std::string(mnemonic(opOf(op))) + "(";
  for (size_t i = 0; i < args.size(); ++i)
    r += (i ? ", " : "") + args[i];
  if (hasSlope(opOf(op)))
    r += ", " + scalarText(param);
  return r + ")";
}

std::string withoutOuterParens(const std::string &r) {
  int depth = 0;
  bool outer = r.size() > 2 && r.front() == '(';
  for (size_t i = 0; outer && i + 1 < r.size(); ++i) {
    depth += r[i] == '(' ? 1 : r[i] == ')' ? -1 : 0;
    if (depth == 0)
      outer = false;
  }
  return outer && r.back() == ')' ? r.substr(1, r.size() - 2) : r;
}

std::string elementwiseText(const std::vector<ExprStep> &body,
                            const std::vector<std::string> &args) {
  std::vector<std::string> steps;
  for (const ExprStep &st : body) {
    if (st.op == OpKind::Const) {
      steps.push_back(num(st.value));
      continue;
    }
    std::vector<std::string> a;
    for (int k : st.args)
      a.push_back(k >= 0 ? args[static_cast<size_t>(k)]
                         : steps[static_cast<size_t>(-1 - k)]);
    steps.push_back(
        elementwiseOpText(member<ElementwiseOp>(st.op), a, st.value));
  }
  return withoutOuterParens(steps.back());
}

} // namespace nn
