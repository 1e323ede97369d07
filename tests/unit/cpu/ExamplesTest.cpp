//===- ExamplesTest.cpp - The CPU backend on every example ----------------===//
///
/// \file
/// Every example, its forward graph and its whole training step, compiled by
/// the CPU backend and compared node by node with the reference interpreter
/// (float32 against double, 1e-4 relative); a partial last batch; the same
/// compiled step run three times gives identical bits.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

using namespace nn;
using namespace nn::test;

namespace {

const char *const kExamples[] = {"churn.nn",    "xor.nn",     "xor_neuron.nn",
                                 "mnist_mlp.nn", "spirals.nn", "circles.nn"};

TEST(CpuExamples, ForwardGraphsMatchTheInterpreter) {
  for (const char *file : kExamples) {
    Model m = loadExample(file, Stage::Forward);
    ASSERT_GT(m.graph.size(), 0) << file;
    ValueMap l = randomLeaves(m.graph, 7, 3);
    checkAgainstInterpreter(m.graph, l, 7, 7, 1e-4,
                            std::string(file) + " forward");
  }
}

TEST(CpuExamples, TrainingStepsMatchTheInterpreter) {
  // The whole step: forward, backward (with L2 where the recipe has it) and
  // the optimizer update. The longest reduction is mnist's L2 term, a sum of
  // 100,352 squares, accumulated in double as the interpreter does: 1e-4
  // holds everywhere.
  for (const char *file : kExamples) {
    Model m = loadExample(file, Stage::Opt);
    ASSERT_GT(m.graph.size(), 0) << file;
    ASSERT_FALSE(m.graph.updates.empty()) << file;
    ValueMap l = randomLeaves(m.graph, 16, 5);
    checkAgainstInterpreter(m.graph, l, 16, 16, 1e-4,
                            std::string(file) + " step");
  }
}

TEST(CpuExamples, PartialBatchAndUnoptimizedCode) {
  // Compiled for 16 rows, run on 5 (the last batch of an epoch); and the
  // same at -O0, which runs the IR as emitted.
  for (const char *file : {"xor.nn", "mnist_mlp.nn"}) {
    Model m = loadExample(file, Stage::Opt);
    ValueMap l = randomLeaves(m.graph, 5, 9);
    checkAgainstInterpreter(m.graph, l, 5, 16, 1e-4,
                            std::string(file) + " batch 5 of 16");
    checkAgainstInterpreter(m.graph, l, 5, 5, 1e-4,
                            std::string(file) + " -O0", /*optLevel=*/0);
  }
}

TEST(CpuExamples, RealMemoryPlanGivesTheSameOutputsAndUpdates) {
  // With buffer reuse (passes/MemoryPlan), outputs and updates are intact.
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  ValueMap l = randomLeaves(m.graph, 8, 13);
  MemoryPlan reuse = planMemory(m.graph, 8);
  MemoryPlan flat = planWithoutReuse(m.graph, 8);
  EXPECT_LT(reuse.arenaBytes, flat.arenaBytes);
  std::unique_ptr<CpuProgram> a = compileCpu(m.graph, reuse, {});
  std::unique_ptr<CpuProgram> b = compileCpu(m.graph, flat, {});
  CpuRun ra = runProgram(m.graph, *a, l, 8);
  CpuRun rb = runProgram(m.graph, *b, l, 8);
  for (const Output &o : m.graph.outputs)
    EXPECT_EQ(ra.value(m.graph, reuse, o.node, 8),
              rb.value(m.graph, flat, o.node, 8))
        << o.name;
  EXPECT_EQ(ra.leaves, rb.leaves);
}

TEST(CpuExamples, SameStepThreeTimesGivesIdenticalBits) {
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  ValueMap l = randomLeaves(m.graph, 32, 17);
  MemoryPlan plan = planMemory(m.graph, 32);
  std::unique_ptr<CpuProgram> prog = compileCpu(m.graph, plan, {});
  CpuRun first = runProgram(m.graph, *prog, l, 32);
  for (int i = 0; i < 2; ++i) {
    CpuRun again = runProgram(m.graph, *prog, l, 32);
    ASSERT_EQ(first.leaves.size(), again.leaves.size());
    for (const auto &[name, v] : first.leaves) {
      const std::vector<float> &w = again.leaves.at(name);
      ASSERT_EQ(v.size(), w.size()) << name;
      EXPECT_EQ(0, std::memcmp(v.data(), w.data(), v.size() * sizeof(float)))
          << name << " differs on run " << i + 2;
    }
    NodeId loss = *m.graph.output("loss");
    EXPECT_EQ(first.value(m.graph, plan, loss, 32),
              again.value(m.graph, plan, loss, 32));
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
