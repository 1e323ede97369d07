//===- NormalizeCheckTest.cpp - normalize across the batch is an error ----===//
///
/// \file
/// check-model: normalize over the last axis of a batch of scalars (f32[N])
/// would normalize each sample with the others; the error says so at the
/// node (the frontend's layer_norm rejects this before, an IR graph can
/// still say it). Over the features (f32[N,k]) is fine.
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "passes/CheckModel.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;

namespace {

/// The errors of checkModel on mse(normalize(v), y) with v = sum(x, axis)
/// (axis -1: x itself), x : f32[N,3].
std::string checkErrors(int64_t axis) {
  Graph g;
  g.name = "mix";
  Node x = makeNode(OpKind::Input, {}, SrcLoc{"m.nn", 1, 7, 1});
  x.name = "x";
  x.type = TensorType::of({kBatch, 3});
  NodeId xid = g.add(x);
  Node y = makeNode(OpKind::Label, {});
  y.name = "y";
  y.labelKind = LabelKind::Real;
  y.type = axis >= 0 ? TensorType::of({kBatch}) : TensorType::of({kBatch, 3});
  NodeId yid = g.add(y);
  NodeId v = xid;
  if (axis >= 0) {
    Node s = makeNode(OpKind::Sum, {xid});
    s.axis = axis;
    v = g.add(s);
  }
  Node n = makeNode(OpKind::Normalize, {v}, SrcLoc{"m.nn", 4, 5, 9});
  n.param = 1e-5;
  NodeId nid = g.add(n);
  NodeId loss = g.add(makeNode(OpKind::Mse, {nid, yid}));
  g.outputs.push_back({"loss", loss});
  g.outputs.push_back({"pred", nid});
  DiagEngine diags;
  Graph typed = inferShapes(g, diags);
  try {
    checkModel(typed, diags);
  } catch (const DiagnosedError &) {
  }
  return diags.str();
}

} // namespace

TEST(NormalizeCheck, AcrossTheBatchIsAnError) {
  std::string errs = checkErrors(1);
  EXPECT_NE(errs.find("m.nn:4:5: error: 'normalize' of f32[N] normalizes "
                      "across the samples of a batch"),
            std::string::npos)
      << errs;
  EXPECT_NE(errs.find("help: layer_norm normalizes each sample's features"),
            std::string::npos)
      << errs;
  EXPECT_EQ(checkErrors(-1), "");
}
