//===- MaskedGradTest.cpp - Autodiff's activation form and its matcher ----===//
///
/// \file
/// The dense-grad fusion finds `dy * act'(a)` by matchMaskedGrad, beside
/// buildMaskedGrad that autodiff builds it with (passes/grad/). For every
/// activation of ir/Ops.def: the matcher finds what the builder built (so a
/// rule change cannot silently stop the fusion), and the built graph
/// computes dy * emitActivationGrad(act, a) (ir/ElementwiseMath.h), the
/// derivative the fused backward uses; `a` is z itself for the activations
/// whose derivative is written in their input (gelu, silu), and
/// leaky_relu's slope travels with the match.
///
//===----------------------------------------------------------------------===//

#include "TestGraphs.h"

#include "ir/FusedMath.h"
#include "passes/Autodiff.h"
#include "passes/Builder.h"
#include "passes/FuseUtil.h"
#include "passes/InferShapes.h"
#include "passes/grad/ElementwiseGrad.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

struct Built {
  Graph g;
  NodeId z, dy, a, dz;
  /// The node the fused backward reads act' from: a, or z (gradFromInput).
  NodeId operand() const { return gradFromInput(act) ? z : a; }
  Activation act;
};

/// leaky_relu's slope in these tests (0 for the other activations).
constexpr double kSlope = 0.2;

double slopeOf(Activation act) {
  return act == Activation::LeakyRelu ? kSlope : 0.0;
}

/// z, dy scalars; a = act(z); dz = buildMaskedGrad(act, dy, z, a). Both a
/// and dz are outputs, as in a model, where the forward reads a (the
/// fusion passes match live nodes only).
Built build(Activation act) {
  Built r;
  r.act = act;
  r.z = leaf(r.g, OpKind::Input, "z", TensorType::scalar());
  r.dy = leaf(r.g, OpKind::Input, "dy", TensorType::scalar());
  Builder b(r.g);
  r.a = b.unary(opOf(activationOp(act)), r.z, "a");
  r.g[r.a].param = slopeOf(act);
  r.dz = buildMaskedGrad(b, act, r.dy, r.z, r.a, slopeOf(act));
  r.g.outputs.push_back({"a", r.a});
  r.g.outputs.push_back({"dz", r.dz});
  return r;
}

/// The value of every node of `g` from scalar inputs, with the elementwise
/// math every backend uses.
std::vector<double> evaluate(const Graph &g, double z, double dy) {
  std::vector<double> v;
  DoubleEmitter e;
  for (const Node &n : g.nodes) {
    if (n.op == OpKind::Input) {
      v.push_back(n.name == "z" ? z : dy);
    } else if (n.op == OpKind::Const) {
      v.push_back(n.values[0]);
    } else {
      if (family(n.op) != OpFamily::Elementwise) {
        ADD_FAILURE() << "not elementwise: " << mnemonic(n.op);
        return v;
      }
      std::vector<double> args;
      for (NodeId in : n.inputs)
        args.push_back(v[in]);
      v.push_back(
          emitElementwise(e, n.op, std::span<const double>(args), n.param));
    }
  }
  return v;
}

} // namespace

TEST(MaskedGrad, TheMatcherFindsWhatTheRuleBuildsForEveryActivation) {
  ASSERT_FALSE(allActivations().empty());
  for (Activation act : allActivations()) {
    Built r = build(act);
    FuseContext c(r.g);
    MaskedGrad m = matchMaskedGrad(c, r.dz);
    EXPECT_EQ(m.act, act) << activationName(act);
    EXPECT_EQ(m.da, r.dy) << activationName(act);
    EXPECT_EQ(m.a, r.operand()) << activationName(act);
    EXPECT_EQ(m.param, slopeOf(act)) << activationName(act);
  }
}

TEST(MaskedGrad, LeakyReluMatchesOnlyItsOwnSlope) {
  Built r = build(Activation::LeakyRelu);
  // The activation's slope differs from the constant in its derivative:
  // folding would compute another derivative, so no match.
  r.g[r.a].param = 0.3;
  FuseContext c(r.g);
  EXPECT_EQ(matchMaskedGrad(c, r.dz).act, Activation::None);
}

TEST(MaskedGrad, InputFormActivationsNeedTheirForwardOp) {
  // gelu' and silu' read z; the match needs act(z) in the graph (else the
  // factor is some other expression that merely looks alike).
  for (Activation act : {Activation::Gelu, Activation::Silu}) {
    Built r = build(act);
    r.g[r.a].op = opOf(activationOp(
        act == Activation::Gelu ? Activation::Silu : Activation::Gelu));
    FuseContext c(r.g);
    EXPECT_EQ(matchMaskedGrad(c, r.dz).act, Activation::None)
        << activationName(act);
  }
}

TEST(MaskedGrad, TheMatcherRejectsAMismatchedActivation) {
  for (Activation act : allActivations()) {
    Built r = build(act);
    // The factor's activation replaced by a plain negation: no match.
    r.g[r.a].op = OpKind::Neg;
    FuseContext c(r.g);
    EXPECT_EQ(matchMaskedGrad(c, r.dz).act, Activation::None)
        << activationName(act);
  }
}

TEST(MaskedGrad, TheRuleComputesTheFusedBackwardsDerivative) {
  DoubleEmitter e;
  for (Activation act : allActivations())
    for (double z : {-2.5, -0.3, 0.0, 0.7, 3.0}) {
      Built r = build(act);
      const double dy = 1.75;
      std::vector<double> v = evaluate(r.g, z, dy);
      ASSERT_EQ(v.size(), static_cast<size_t>(r.g.size()));
      double a = emitActivation(e, act, z, slopeOf(act));
      double operand = gradFromInput(act) ? z : a;
      EXPECT_DOUBLE_EQ(v[r.dz],
                       dy * emitActivationGrad(e, act, operand, slopeOf(act)))
          << activationName(act) << " at " << z;
    }
}

TEST(MaskedGrad, AutodiffBuildsTheMaskedFormForEachActivationNode) {
  for (Activation act : allActivations()) {
    Graph fwd;
    NodeId z = param(fwd, "w", {3}, false);
    NodeId a = op(fwd, opOf(activationOp(act)), {z}, "a");
    fwd[a].param = slopeOf(act);
    NodeId l = op(fwd, OpKind::Sum, {a}, "loss");
    fwd.outputs.push_back({"loss", l});
    DiagEngine d;
    Graph g = differentiate(inferShapes(fwd, d));
    FuseContext c(g);
    NodeId dz = *g.output("grad.w");
    MaskedGrad m = matchMaskedGrad(c, dz);
    EXPECT_EQ(m.act, act) << activationName(act);
    EXPECT_EQ(m.a, gradFromInput(act) ? z : a) << activationName(act);
    EXPECT_EQ(m.param, slopeOf(act)) << activationName(act);
  }
}
