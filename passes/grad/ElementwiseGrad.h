//===- ElementwiseGrad.h - The masked activation gradient ------*- C++ -*-===//
///
/// \file
/// The form autodiff gives an activation's gradient, `dy * act'`, built and
/// recognised side by side, so the dense-grad fusion (passes/FuseDenseGrad.cpp)
/// finds exactly what the rule builds: change the form in one and the other
/// follows, and tests/unit/passes/MaskedGradTest.cpp checks both for every
/// activation of ir/Ops.def.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

class Builder;
class FuseContext;

/// dy * act'(z) for activation `act` (not None) with input `z` and output
/// `a` = act(z), appended with `b`. The derivative is the one of
/// ir/ElementwiseMath.h (emitActivationGrad), written from the output
/// except for relu: step(z) (equal to step(a), NaN included), and from the
/// input for the activations whose GradFrom is Input (gelu, silu).
/// `slope`: leaky_relu's.
NodeId buildMaskedGrad(Builder &b, Activation act, NodeId dy, NodeId z,
                       NodeId a, double slope = 0);

/// A masked gradient found in a graph: dz = da * act'(a), `a` the
/// activation's output node (its input z when gradFromInput(act)); `param`
/// the activation's number (leaky_relu's slope), 0 for the others.
struct MaskedGrad {
  Activation act = Activation::None;
  NodeId da = -1, a = -1;
  double param = 0;
};

/// Whether live node `dz` is the output of buildMaskedGrad (either operand
/// order of the products); act None when it is not.
MaskedGrad matchMaskedGrad(const FuseContext &c, NodeId dz);

} // namespace nn
