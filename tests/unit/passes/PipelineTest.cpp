//===- PipelineTest.cpp - Stages, verification, --print-after -------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "ir/Verifier.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace nn;
using namespace nn::test;

namespace {

Recipe sgdRecipe(double momentum, double l2) {
  Recipe r;
  r.optimizer.lr = 0.05;
  r.optimizer.momentum = momentum;
  r.l2 = l2;
  return r;
}

} // namespace

TEST(Pipeline, Stages) {
  DiagEngine d;
  PipelineOptions none;
  Recipe r = sgdRecipe(0.9, 1e-4);
  Graph fwd = runPipeline(mlpGraph(), r, Stage::Forward, none, d);
  EXPECT_EQ(fwd[*fwd.output("loss")].op, OpKind::SoftmaxCrossEntropy);
  EXPECT_TRUE(fwd.updates.empty());
  Graph grad = runPipeline(mlpGraph(), r, Stage::Grad, none, d);
  EXPECT_EQ(grad.updates.size(), 8u);
  EXPECT_EQ(grad[*grad.output("loss")].name, "loss.l2");
  Graph opt = runPipeline(mlpGraph(), r, Stage::Opt, none, d);
  EXPECT_EQ(opt.updates.size(), 8u);
  EXPECT_LT(opt.size(), grad.size()); // cse merged something
  EXPECT_TRUE(verifyGraph(opt).empty());
}

TEST(Pipeline, PrintsAfterNamedPassesWhenChanged) {
  DiagEngine d;
  std::ostringstream log;
  PipelineOptions opts;
  opts.log = &log;
  opts.printAfter = {"stable-losses", "add-l2"};
  runPipeline(mlpGraph(), sgdRecipe(0, 0), Stage::Opt, opts, d);
  std::string s = log.str();
  EXPECT_NE(s.find("# after stable-losses\ngraph mlp {"), std::string::npos);
  EXPECT_NE(s.find("softmax_cross_entropy %fc2, %y"), std::string::npos);
  EXPECT_EQ(s.find("# after add-l2"), std::string::npos); // l2 = 0: no change
  EXPECT_EQ(s.find("# after cse"), std::string::npos);

  std::ostringstream all;
  opts.log = &all;
  opts.printAfter = {};
  opts.printAfterAll = true;
  runPipeline(mlpGraph(), sgdRecipe(0, 0), Stage::Opt, opts, d);
  // dce finds nothing dead here, so it prints nothing.
  EXPECT_EQ(all.str().find("# after dce"), std::string::npos);
  for (const char *p : {"infer-shapes", "stable-losses", "differentiate",
                        "cse"})
    EXPECT_NE(all.str().find(std::string("# after ") + p), std::string::npos)
        << p;
}

TEST(Pipeline, Errors) {
  DiagEngine d;
  PipelineOptions opts;
  opts.printAfter = {"csee"};
  try {
    runPipeline(mlpGraph(), sgdRecipe(0, 0), Stage::Opt, opts, d);
    FAIL();
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "error: unknown pass 'csee' in --print-after "
                           "(did you mean 'cse'?)");
  }
  EXPECT_EQ(passNames().size(), 13u); // 6 up to Opt, 7 fusion steps
  // A shape error is the user's, reported through diags.
  Graph bad = mlpGraph();
  bad[*bad.findLeaf(OpKind::Param, "fc2.weight")].type =
      TensorType::of({9, 3});
  EXPECT_THROW(runPipeline(bad, sgdRecipe(0, 0), Stage::Opt, {}, d),
               DiagnosedError);
  EXPECT_TRUE(d.hasErrors());
  // A structurally broken input graph (e.g. from IR text).
  Graph broken = mlpGraph();
  broken.updates.push_back({0, 0}); // updates an input
  try {
    runPipeline(broken, sgdRecipe(0, 0), Stage::Forward, {}, d);
    FAIL();
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("error: invalid input graph:"),
              std::string::npos);
  }
}
