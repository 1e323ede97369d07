//===- FormulaText.cpp - Math templates written as infix text -------------===//

#include "tools/teach/FormulaText.h"

namespace nn {

namespace {

/// Whether act'(a) computed from a = act(z) equals act'(z) itself at a few
/// points of each sign: then the formula reads the same on Z.
bool sameOnPreactivation(Activation act) {
  DoubleEmitter d;
  for (double z : {-2.0, -0.5, 0.5, 2.0}) {
    double a = emitActivation(d, act, z);
    if (emitActivationGrad(d, act, a) != emitActivationGrad(d, act, z))
      return false;
  }
  return true;
}

/// The unary elementwise op whose formula on `x` is `text`, written as a
/// call (`step(Z)`), if there is one and it is not already the text.
std::string namedBy(const std::string &text, const FormulaText &x) {
  for (OpKind k : allOps()) {
    if (family(k) != OpFamily::Elementwise || opInfo(k).arity != 1)
      continue;
    FormulaEmitter e;
    std::string call = std::string(mnemonic(k)) + "(" + x.text + ")";
    if (emitElementwise(e, k, std::span<const FormulaText>(&x, 1)).text ==
            text &&
        call != text)
      return call;
  }
  return "";
}

} // namespace

std::string activationGradText(Activation act) {
  FormulaEmitter e;
  FormulaText x{sameOnPreactivation(act) ? "Z" : "A"};
  std::string text = emitActivationGrad(e, act, x).text;
  std::string name = namedBy(text, x);
  return name.empty() ? text : name + ": " + text;
}

std::optional<FormulaText> arithmeticText(OpKind op,
                                          std::span<const FormulaText> args,
                                          bool dropOnes) {
  FormulaEmitter e;
  e.dropOnes = dropOnes;
  FormulaText t = emitElementwise(e, op, args);
  if (e.usedCalls)
    return std::nullopt;
  return t;
}

} // namespace nn
