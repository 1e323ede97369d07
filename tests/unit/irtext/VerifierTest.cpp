//===- VerifierTest.cpp - Structural checks -------------------------------===//

#include "../passes/TestGraphs.h"

#include "ir/Verifier.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

Graph typedMlp() {
  DiagEngine d;
  return inferShapes(mlpGraph(), d);
}

std::string only(const std::vector<std::string> &errs) {
  EXPECT_EQ(errs.size(), 1u);
  return errs.empty() ? "" : errs[0];
}

} // namespace

TEST(Verifier, AcceptsGoodGraphs) {
  EXPECT_TRUE(verifyGraph(typedMlp()).empty());
  VerifyOptions untyped;
  untyped.requireTypes = false;
  EXPECT_TRUE(verifyGraph(mlpGraph(), untyped).empty());
  EXPECT_FALSE(verifyGraph(mlpGraph()).empty()); // types not known
}

TEST(Verifier, NodeProblems) {
  Graph g = typedMlp();
  g[4].inputs.push_back(0);
  EXPECT_EQ(only(verifyGraph(g)), "node 4 (matmul): has 3 operands, "
                                  "expected 2");
  g = typedMlp();
  g[4].inputs[0] = 6;
  EXPECT_EQ(only(verifyGraph(g)), "node 4 (matmul): operand 6 does not come "
                                  "before its user");
  g = typedMlp();
  g[0].inputs.push_back(0);
  EXPECT_EQ(verifyGraph(g)[0], "node 0 (input 'x'): has 1 operands, "
                               "expected 0");
  g = typedMlp();
  g[3].name = "fc1.weight";
  g[3].op = OpKind::Param;
  EXPECT_EQ(only(verifyGraph(g)), "node 3 (param 'fc1.weight'): another "
                                  "param has the name 'fc1.weight'");
  g = typedMlp();
  g[0].name = "";
  EXPECT_EQ(only(verifyGraph(g)), "node 0 (input): leaf has no name");
  g = typedMlp();
  g[5].type = TensorType::of({-7});
  EXPECT_EQ(only(verifyGraph(g)), "node 5 (add): bad dimension in [-7]");
  g = typedMlp();
  g[5].type = TensorType{};
  EXPECT_EQ(only(verifyGraph(g)), "node 5 (add): type is not known");
}

TEST(Verifier, OutputsAndUpdates) {
  Graph g = typedMlp();
  g.outputs.push_back({"loss", 3});
  EXPECT_EQ(only(verifyGraph(g)), "output 'loss' is defined twice");
  g = typedMlp();
  g.outputs.push_back({"far", 99});
  EXPECT_EQ(only(verifyGraph(g)), "output 'far' refers to missing node 99");
  g = typedMlp();
  g.updates.push_back({0, 0});
  EXPECT_EQ(only(verifyGraph(g)), "update of node 0: target must be a param "
                                  "or state, not input");
  g = typedMlp();
  g.updates.push_back({2, 3});
  EXPECT_EQ(only(verifyGraph(g)), "update of node 2 ('fc1.weight'): value "
                                  "has type f32[8], target f32[4,8]");
  g = typedMlp();
  g.updates.push_back({2, 2});
  g.updates.push_back({2, 2});
  EXPECT_EQ(only(verifyGraph(g)), "update of node 2 ('fc1.weight'): updated "
                                  "twice");
  g = typedMlp();
  g.updates.push_back({2, 50});
  EXPECT_EQ(only(verifyGraph(g)), "update of node 2: refers to a missing "
                                  "node");
}
