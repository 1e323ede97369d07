//===- FusedTest.cpp - Fused graphs on the CPU backend --------------------===//
///
/// \file
/// Every example and four extra models (sigmoid and tanh layers with mse;
/// plain SGD with cross-entropy; a dense bce model; layers wide enough for
/// whole micro-kernel tiles with every activation of the op table,
/// tests/unit/EveryActivation.h), through the pipeline to
/// Stage::Fused with all fusions and with each alone: the CPU backend against
/// the interpreter on the same fused graph, node by node (float32 against
/// double, 1e-4 relative), and the fused step against the unfused one, both
/// on the CPU (outputs and updates, 1e-4 relative: fusion keeps each sum's
/// order, float rounding of intermediates aside).
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"
#include "tests/unit/EveryActivation.h"

#include "passes/Fuse.h"

using namespace nn;
using namespace nn::test;

namespace {

const char *kSigmoidMse = R"(model sig
input x : f32[3]
label y : real
h1 = dense(x, 5, sigmoid)
h2 = dense(h1, 4, tanh)
out = dense(h2, 1)
loss mse(out, y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.1, momentum = 0.5) batch 4 epochs 1 l2 0.01 }
)";

const char *kReluPlainSgd = R"(model plain
input x : f32[4]
label y : class(3)
h = dense(x, 6, relu)
out = dense(h, 3)
loss cross_entropy(softmax(out), y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.2) batch 4 epochs 1 }
)";

const char *kTanhBce = R"(model tb
input x : f32[5]
label y : binary
h = dense(x, 7, tanh)
out = dense(h, 1)
loss bce(sigmoid(out), y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.3, momentum = 0.9) batch 8 epochs 1 l2 0.001 }
)";

// Layers 32 and 16 wide (whole 6 x 16 tiles, whose epilogue runs on
// vectors) and 7 wide (a partial tile), with every activation.
struct Case {
  std::string name;
  Model model; // lowered, before the passes
  int64_t batch;
};

std::vector<Case> cases() {
  auto example = [](const std::string &file) {
    std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + file;
    return parseText(path, readText(path));
  };
  return {{"churn", example("churn.nn"), 5},
          {"xor", example("xor.nn"), 4},
          {"xor_neuron", example("xor_neuron.nn"), 4},
          {"mnist_mlp", example("mnist_mlp.nn"), 6},
          {"sigmoid-mse", parseText("sig.nn", kSigmoidMse), 7},
          {"relu-plain-sgd", parseText("plain.nn", kReluPlainSgd), 4},
          {"tanh-bce", parseText("tb.nn", kTanhBce), 8},
          {"every-activation",
           parseText("every.nn", everyActivationModel()), 13}};
}

/// Outputs and updated leaves of one CPU step of `g` (real memory plan).
std::map<std::string, std::vector<float>> cpuStep(const Graph &g,
                                                  const ValueMap &leaves,
                                                  int64_t batch) {
  MemoryPlan plan = planMemory(g, batch);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
  CpuRun run = runProgram(g, *prog, leaves, batch);
  std::map<std::string, std::vector<float>> r = run.leaves;
  for (const Output &o : g.outputs)
    r["output " + o.name] = run.value(g, plan, o.node, batch);
  return r;
}

TEST(CpuFused, EveryModelEveryFusionSetMatchesTheInterpreter) {
  for (const Case &c : cases()) {
    std::vector<std::set<std::string>> sets = {parseFusionList("all")};
    for (const std::string &f : fusionNames())
      sets.push_back({f});
    for (const std::set<std::string> &s : sets) {
      std::string label = c.name + " {";
      for (const std::string &f : s)
        label += f + " ";
      label += "}";
      // Each fusion alone on mnist adds little over all of them at once,
      // and mnist's compiles dominate the test's time: all fusions only.
      if (c.name == "mnist_mlp" && s.size() == 1)
        continue;
      Model m = throughPipeline(c.model, Stage::Fused, s);
      ASSERT_GT(m.graph.size(), 0) << label;
      ValueMap l = randomLeaves(m.graph, c.batch, 31);
      // O1 for the single-fusion sets (faster to compile; the kernels are
      // the same IR), O2 for all fusions, as `nnc train` compiles.
      checkAgainstInterpreter(m.graph, l, c.batch, c.batch, 1e-4, label,
                              s.size() == 1 ? 1 : 2);
    }
  }
}

TEST(CpuFused, FusedStepEqualsUnfusedStep) {
  for (const Case &c : cases()) {
    Model fused = throughPipeline(c.model, Stage::Fused);
    Model plain = throughPipeline(c.model, Stage::Opt);
    int fusedOps = 0;
    for (const Node &n : fused.graph.nodes)
      fusedOps += hasTrait(n.op, kFused);
    EXPECT_GT(fusedOps, 0) << c.name << ": nothing fused";
    ValueMap l = randomLeaves(plain.graph, c.batch, 37);
    auto a = cpuStep(fused.graph, l, c.batch);
    auto b = cpuStep(plain.graph, l, c.batch);
    ASSERT_EQ(a.size(), b.size()) << c.name;
    for (const auto &[name, v] : b) {
      ASSERT_EQ(a.count(name), 1u) << c.name << ": " << name;
      std::vector<double> want(v.begin(), v.end());
      expectClose(a.at(name), want, 1e-4, c.name + " fused vs unfused: " + name);
    }
  }
}

TEST(CpuFused, FusedKernelsAreNamedAfterTheirOps) {
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  std::string ir = emitLlvmText(m.graph, planMemory(m.graph, 4), false);
  // A weight gradient's kernel computes its bias gradient too, and all SGD
  // updates are one kernel (KernelGroupTest.cpp); every other fused node
  // has its own.
  for (const char *op : {"_fused_dense(", "_fused_dense_grad_input(",
                         "_fused_dense_grad_weight_with_bias(",
                         "_fused_softmax_xent_grad(", "_step_optimizer("})
    EXPECT_NE(ir.find(op), std::string::npos) << op;
  for (NodeId id = 0; id < m.graph.size(); ++id) {
    OpKind op = m.graph[id].op;
    if (hasTrait(op, kFused) && op != OpKind::DenseGradBias &&
        op != OpKind::Sgd && op != OpKind::SgdMomentum) {
      std::string name = "define internal void @" + cpuKernelName(m.graph, id);
      EXPECT_TRUE(ir.find(name + "(") != std::string::npos ||
                  ir.find(name + "_with_bias(") != std::string::npos)
          << name;
    }
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
