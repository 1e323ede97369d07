//===- FoldedGradientTest.cpp - The l2 gradient in the optimizer's pass ---===//
///
/// \file
/// A gradient only its update reads (l2's `2 lambda w + g`, a fused
/// elementwise; passes/UpdateChains.h) is computed in the optimizer's loop
/// over its parameter from the product and w: never stored, never read
/// back. The updates are bit for bit those of separate loops
/// (CpuOptions::updateChains off: the gradient stored, then read), for SGD,
/// SGD with momentum, Adam and AdamW, under `nnc train`'s memory plan; a
/// gradient something else reads too stays a kernel of its own.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/KernelGroups.h"
#include "ir/IRParser.h"
#include "passes/InferShapes.h"
#include "passes/UpdateChains.h"

using namespace nn;
using namespace nn::test;

namespace {

/// mnist_mlp with `optimizerLine` in place of its optimizer.
Model mnistWith(const std::string &optimizerLine) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn";
  std::string text = readText(path);
  size_t at = text.find("optimizer sgd(");
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos)
    text.replace(at, text.find('\n', at) - at, optimizerLine);
  return throughPipeline(parseText(path, text), Stage::Fused);
}

/// The weights' gradients: d.fc1.weight, d.fc2.weight, d.fc3.weight.
std::vector<NodeId> weightGradients(const Graph &g) {
  std::vector<NodeId> out;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g[id].name.rfind("d.fc", 0) == 0 &&
        g[id].name.find(".weight") != std::string::npos)
      out.push_back(id);
  return out;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Valid optimizer state: v >= 0, two steps done.
ValueMap stateLeaves(const Graph &g, int64_t batch, uint64_t seed) {
  ValueMap l = randomLeaves(g, batch, seed);
  for (auto &[name, v] : l) {
    if (name == "optimizer.step")
      v.data[0] = 2;
    else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".v") == 0)
      for (double &x : v.data)
        x = std::fabs(x);
  }
  return l;
}

const char *kOptimizers[] = {
    "optimizer sgd(lr = 0.05, momentum = 0.9)",
    "optimizer sgd(lr = 0.05)",
    "optimizer adam(lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-6)",
    "optimizer adamw(lr = 0.01, weight_decay = 0.1)"};

TEST(CpuFoldedGradients, MnistWeightGradientsHaveNoKernelOfTheirOwn) {
  for (const char *line : kOptimizers) {
    Model m = mnistWith(line);
    const Graph &g = m.graph;
    std::vector<NodeId> grads = weightGradients(g);
    ASSERT_EQ(grads.size(), 3u) << line;
    std::vector<int> uses = g.useCounts();
    MemoryPlan plan = planMemory(g, 64);
    std::vector<cpu::KernelGroup> groups = cpu::findGroups(g, plan);
    std::string ir = emitLlvmText(g, plan, false);
    int folded = 0;
    for (NodeId id : grads) {
      EXPECT_EQ(family(g[id].op), OpFamily::FusedElementwise) << line;
      EXPECT_TRUE(isFoldedGradient(g, id, uses)) << line << ": " << g[id].name;
      EXPECT_EQ(family(g[foldedInto(g, id)].op), OpFamily::Update);
      bool grouped = false;
      for (const cpu::KernelGroup &grp : groups)
        grouped = grouped || (grp.weight < 0 &&
                              std::count(grp.nodes.begin(), grp.nodes.end(),
                                         id) == 1);
      // In the optimizer's group, or a kernel of its own: where the plan
      // reuses its product's buffer once it is computed (fc3's always).
      EXPECT_NE(grouped,
                ir.find("@" + cpuKernelName(g, id) + "(") != std::string::npos)
          << line << ": " << g[id].name;
      folded += grouped;
    }
    // The recipe's optimizer: fc1's and fc2's (the others as the plan
    // allows: where the chains stay one loop each, split between threads).
    if (line == kOptimizers[0])
      EXPECT_EQ(folded, 2) << line;
  }
}

TEST(CpuFoldedGradients, UpdatesEqualSeparateLoopsBitForBit) {
  for (const char *line : kOptimizers)
    for (int64_t batch : {7, 64}) {
      Model m = mnistWith(line);
      const Graph &g = m.graph;
      MemoryPlan plan = planMemory(g, batch);
      ValueMap leaves = stateLeaves(g, batch, 11);
      std::unique_ptr<CpuProgram> folded = compileCpu(g, plan, {});
      CpuOptions apart;
      apart.updateChains = false;
      std::unique_ptr<CpuProgram> separate = compileCpu(g, plan, apart);
      CpuRun a = runProgram(g, *folded, leaves, batch);
      CpuRun b = runProgram(g, *separate, leaves, batch);
      Interpreter::Result want = Interpreter(g).step(leaves);
      std::string at = std::string(line) + " at batch " + std::to_string(batch);
      ASSERT_FALSE(want.updates.empty()) << at;
      for (const auto &[name, v] : want.updates) {
        EXPECT_TRUE(sameBits(a.leaves.at(name), b.leaves.at(name)))
            << at << ": " << name;
        expectClose(a.leaves.at(name), v.data, 1e-4, at + ": " + name);
      }
    }
}

TEST(CpuFoldedGradients, TheFoldedGradientIsNeverStored) {
  Model m = mnistWith("optimizer sgd(lr = 0.05, momentum = 0.9)");
  const Graph &g = m.graph;
  MemoryPlan plan = planWithoutReuse(g, 9);
  ValueMap leaves = randomLeaves(g, 9, 4);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
  CpuRun run = runProgram(g, *prog, leaves, 9); // the arena starts as NaN
  for (NodeId id : weightGradients(g)) {
    std::vector<float> v = run.value(g, plan, id, 9);
    EXPECT_TRUE(std::all_of(v.begin(), v.end(),
                            [](float x) { return std::isnan(x); }))
        << g[id].name << " was written";
  }
  checkAgainstInterpreter(g, leaves, 9, 9, 1e-4, "folded, no reuse");
}

TEST(CpuFoldedGradients, AGradientReadElsewhereIsNotFolded) {
  Model m = mnistWith("optimizer sgd(lr = 0.05, momentum = 0.9)");
  Graph g = m.graph;
  NodeId grad = weightGradients(g)[0];
  g.outputs.push_back({"grad", grad});
  std::vector<int> uses = g.useCounts();
  EXPECT_FALSE(isFoldedGradient(g, grad, uses));
  MemoryPlan plan = planMemory(g, 8);
  std::string ir = emitLlvmText(g, plan, false);
  EXPECT_NE(ir.find("@" + cpuKernelName(g, grad) + "("), std::string::npos);
  ValueMap leaves = randomLeaves(g, 8, 5);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
  CpuRun run = runProgram(g, *prog, leaves, 8);
  std::vector<Value> want = Interpreter(g).run(leaves);
  expectClose(run.value(g, plan, grad, 8), want[grad].data, 1e-4, "grad");
}

/// `g` with each value folded into a sum an output as well: not folded.
Graph keepingSquares(const Graph &g, int &folded) {
  Graph kept = g;
  std::vector<int> uses = g.useCounts();
  folded = 0;
  for (NodeId id = 0; id < g.size(); ++id)
    if (isFoldedIntoSum(g, id, uses))
      kept.outputs.push_back({"square" + std::to_string(folded++), id});
  return kept;
}

TEST(CpuFoldedSums, L2SumsReadEachWeightOnceWithTheSameBits) {
  Model m = mnistWith("optimizer sgd(lr = 0.05, momentum = 0.9)");
  const Graph &g = m.graph;
  int folded = 0;
  Graph kept = keepingSquares(g, folded);
  EXPECT_EQ(folded, 3); // sum(mul(w, w)) of each weight
  std::string ir = emitLlvmText(g, planMemory(g, 64), false);
  std::vector<int> uses = g.useCounts();
  for (NodeId id = 0; id < g.size(); ++id)
    if (isFoldedIntoSum(g, id, uses)) {
      EXPECT_EQ(ir.find("@" + cpuKernelName(g, id) + "("), std::string::npos);
      NodeId sum = foldedInto(g, id);
      EXPECT_EQ(ir.find("@" + cpuKernelName(g, sum) + "("), std::string::npos);
      EXPECT_NE(ir.find("@" + cpuKernelName(g, sum) + "_with_operand("),
                std::string::npos);
    }
  std::string apart = emitLlvmText(kept, planMemory(kept, 64), false);
  EXPECT_EQ(count(apart, "_with_operand("), 0);
  for (int64_t batch : {7, 64}) {
    ValueMap leaves = randomLeaves(g, batch, 21);
    auto a = stepOutputs(g, leaves, batch);
    auto b = stepOutputs(kept, leaves, batch);
    EXPECT_TRUE(sameBits(a.at("loss"), b.at("loss"))) << "batch " << batch;
    EXPECT_TRUE(sameBits(a.at("pred"), b.at("pred"))) << "batch " << batch;
  }
}

TEST(CpuFoldedSums, ExpressionsWithScalarsAndATailGiveTheSameBits) {
  // 15 elements: one chunk of 8 and a tail of 7; a scalar operand; a mean.
  const char *text = R"(graph sums {
  %w = param "w" {init = zeros} : f32[5,3]
  %v = param "v" {init = zeros} : f32[5,3]
  %k = param "k" {init = zeros} : f32
  %a = mul %w, %w : f32[5,3]
  %sa = sum %a : f32
  %b = fused.elementwise %w, %v, %k {body = sub(mul(%0, %2), div(%1, 3))} : f32[5,3]
  %sb = mean %b : f32
  output sa = %sa
  output sb = %sb
}
)";
  DiagEngine diags;
  diags.addSource("t.nnir", text);
  Graph g = inferShapes(parseGraph("t.nnir", text, diags), diags);
  ASSERT_FALSE(diags.hasErrors()) << diags.str();
  int folded = 0;
  Graph kept = keepingSquares(g, folded);
  EXPECT_EQ(folded, 2);
  EXPECT_EQ(count(emitLlvmText(g, planMemory(g, 1), false), "_with_operand("),
            4); // two kernels, each defined and called
  for (uint64_t seed : {1u, 2u, 3u}) {
    ValueMap leaves = randomLeaves(g, 1, seed);
    auto a = stepOutputs(g, leaves, 1);
    auto b = stepOutputs(kept, leaves, 1);
    for (const char *name : {"sa", "sb"})
      EXPECT_TRUE(sameBits(a.at(name), b.at(name))) << name << " seed " << seed;
    checkAgainstInterpreter(g, leaves, 1, 1, 1e-5, "folded sums");
  }
}

TEST(CpuFoldedGradients, EveryLayersBiasGradientIsInItsWeightGradientKernel) {
  // One layer per activation, one without: each layer's dW + db in one
  // kernel (fused.dense_grad_weight or x^T @ d, with the bias's sum).
  std::string text = "model acts\ninput x : f32[12]\nlabel y : class(3)\n"
                     "a1 = dense(x, 9, relu)\n";
  const char *acts[] = {"sigmoid", "tanh",     "softsign",
                        "gelu",    "silu",     "softplus",
                        "leaky_relu(0.2)"};
  int layer = 1;
  for (const char *act : acts) {
    text += "a" + std::to_string(layer + 1) + " = dense(a" +
            std::to_string(layer) + ", 9, " + act + ")\n";
    ++layer;
  }
  text += "a9 = dense(a8, 9)\nz = dense(a9, 3)\n"
          "loss cross_entropy(softmax(z), y)\ntrain {\n"
          "  optimizer sgd(lr = 0.05, momentum = 0.9)\n  l2 1e-4\n}\n";
  Model m = throughPipeline(parseText("acts.nn", text), Stage::Fused);
  const Graph &g = m.graph;
  std::string ir = emitLlvmText(g, planMemory(g, 16), false);
  for (const char *name : {"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8",
                           "a9", "z"}) {
    std::string w = std::string("d_") + name + "_weight_fused_";
    EXPECT_EQ(count(ir, "define internal void @" + w + "dense_grad_weight_"
                                                     "with_bias(") +
                  count(ir, "define internal void @" + w +
                                "matmul_with_bias("),
              1)
        << name;
  }
  ValueMap leaves = randomLeaves(g, 16, 8);
  checkAgainstInterpreter(g, leaves, 16, 16, 1e-3, "every activation");
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
