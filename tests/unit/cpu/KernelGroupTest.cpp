//===- KernelGroupTest.cpp - Several nodes in one CPU kernel --------------===//
///
/// \file
/// A weight gradient and the bias gradient of the same operand in one kernel
/// (bit for bit the values of the separate kernels, and the interpreter's to
/// 1e-4), refused where the memory plan reuses a buffer the moved call still
/// reads; every SGD update of a step in one kernel; mnist_mlp's fused step
/// has one dW+db kernel per layer and one optimizer kernel, with one loop
/// per parameter (SGD's momentum and step; Adam's m, v and step), whose
/// results are the interpreter's.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/CpuSteps.h"
#include "ir/IRParser.h"
#include "ir/Support.h"
#include "passes/InferShapes.h"

#include <cstring>

using namespace nn;
using namespace nn::test;

namespace {

/// `text` without the lines containing `drop` (empty: none).
std::string without(const std::string &text, const std::string &drop) {
  std::stringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (drop.empty() || line.find(drop) == std::string::npos)
      out += line + "\n";
  return out;
}

/// Leaves for the pair graphs: x in [0, 1), da and a in [-1, 1) (so that
/// relu's mask and every activation's gradient vary).
ValueMap pairLeaves(const Graph &g, int64_t batch) {
  ValueMap l = randomLeaves(g, batch, 5);
  for (const char *name : {"da", "a"})
    if (l.count(name))
      for (double &v : l[name].data)
        v = static_cast<double>(static_cast<float>(2 * v - 1));
  return l;
}

/// The body of the step's optimizer kernel of model `name`.
std::string optimizerKernel(const std::string &ir, const std::string &name) {
  size_t from = ir.find("define internal void @" + name + "_step_optimizer(");
  EXPECT_NE(from, std::string::npos);
  if (from == std::string::npos)
    return "";
  return ir.substr(from, ir.find("\n}\n", from) - from);
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// 37 rows of dW: two blocks of kGemmRows, the second partial.
const char *kDenseGradPair = R"(graph pair {
  %x = input "x" : f32[N,37]
  %da = input "da" : f32[N,5]
  %a = input "a" : f32[N,5]
  %db = fused.dense_grad_bias %da, %a {act = ACT} : f32[5]
  %dw = fused.dense_grad_weight %x, %da, %a {act = ACT} : f32[37,5]
  output db = %db
  output dw = %dw
}
)";

const char *kMatMulSumPair = R"(graph pair {
  %x = input "x" : f32[N,37]
  %da = input "da" : f32[N,5]
  %dw = fused.matmul %x, %da {transA} : f32[37,5]
  %db = sum %da {axis = 0} : f32[5]
  output dw = %dw
  output db = %db
}
)";

std::string withAct(std::string text, const std::string &act) {
  for (size_t p; (p = text.find("ACT")) != std::string::npos;)
    text.replace(p, 3, act);
  return text;
}

TEST(CpuKernelGroups, WeightAndBiasGradientInOneKernelGiveTheSameBits) {
  std::vector<std::pair<std::string, std::string>> graphs;
  for (const char *act : {"relu", "sigmoid", "tanh"})
    graphs.push_back({std::string("dense_grad ") + act,
                      withAct(kDenseGradPair, act)});
  graphs.push_back({"matmul+sum", kMatMulSumPair});
  for (const auto &[what, text] : graphs) {
    Graph both = parseIr(text);
    Graph onlyW = parseIr(without(text, "%db"));
    Graph onlyB = parseIr(without(text, "%dw"));
    ASSERT_GT(both.size(), 0) << what;
    std::string ir = emitLlvmText(both, planMemory(both, 9), false);
    EXPECT_EQ(countKernels(ir, "define internal void @"), 1) << what << "\n" << ir;
    // Defined once and called once (from the task the thread pool runs).
    EXPECT_EQ(count(ir, "_with_bias("), 3) << what; // + the task's name
    EXPECT_EQ(countKernels(ir, "call void @"), 1) << what;
    EXPECT_EQ(count(emitLlvmText(onlyB, planMemory(onlyB, 9), false),
                    "_with_bias("),
              0)
        << what;
    for (int64_t batch : {1, 9}) {
      ValueMap l = pairLeaves(both, batch);
      auto pair = stepOutputs(both, l, batch);
      auto w = stepOutputs(onlyW, l, batch);
      auto b = stepOutputs(onlyB, l, batch);
      std::string at = what + " at batch " + std::to_string(batch);
      EXPECT_TRUE(sameBits(pair.at("dw"), w.at("dw"))) << at;
      EXPECT_TRUE(sameBits(pair.at("db"), b.at("db"))) << at;
      checkAgainstInterpreter(both, l, batch, 9, 1e-4, at);
    }
  }
}

TEST(CpuKernelGroups, PairRefusedWhereThePlanReusesAnOperandsBuffer) {
  // x dies at %dw; %t, after it, reuses x's buffer: computing dW at %db's
  // place would read t. The plan must leave them separate kernels.
  const char *text = R"(graph reuse {
  %x0 = input "x0" : f32[N,6]
  %da = input "da" : f32[N,4]
  %a = input "a" : f32[N,4]
  %x = fused.elementwise %x0 {body = mul(%0, 2)} : f32[N,6]
  %dw = fused.dense_grad_weight %x, %da, %a {act = relu} : f32[6,4]
  %t = fused.elementwise %x0 {body = exp(%0)} : f32[N,6]
  %db = fused.dense_grad_bias %da, %a {act = relu} : f32[4]
  output dw = %dw
  output t = %t
  output db = %db
}
)";
  Graph g = parseIr(text);
  ASSERT_GT(g.size(), 0);
  MemoryPlan plan = planMemory(g, 8);
  NodeId x = -1, t = -1;
  for (NodeId id = 0; id < g.size(); ++id) {
    if (g[id].name == "x")
      x = id;
    if (g[id].name == "t")
      t = id;
  }
  ASSERT_GE(x, 0);
  ASSERT_GE(t, 0);
  ASSERT_EQ(plan.offset[x], plan.offset[t]) << "the premise: t reuses x";
  EXPECT_EQ(count(emitLlvmText(g, plan, false), "_with_bias("), 0);
  ValueMap l = pairLeaves(g, 8);
  auto got = stepOutputs(g, l, 8);
  std::vector<Value> want = Interpreter(g).run(l);
  for (const Output &o : g.outputs)
    expectClose(got.at(o.name), want[o.node].data, 1e-4, o.name);
}

TEST(CpuKernelGroups, MnistStepHasOneGradKernelPerLayerAndOneOptimizer) {
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  // One job per kernel (SideBySideTest.cpp checks the pairs).
  CpuOptions oneByOne;
  oneByOne.sideBySide = false;
  std::string ir = emitLlvmText(g, planMemory(g, 64), false, oneByOne);
  // The step's module without the trainer's run of steps that calls it
  // (emitted last, codegen/cpu/EmitEpoch.cpp).
  ir = ir.substr(0, ir.find("define i64 @" + cpuStepsSymbol(g) + "("));
  // fc1 and fc2 (relu): fused.dense_grad_weight + fused.dense_grad_bias;
  // fc3 (no activation): fused.matmul x^T @ d + sum over the batch.
  EXPECT_EQ(countKernels(ir, "define internal void @"),
            countKernels(ir, "call void @"))
      << "every kernel is called once";
  EXPECT_GT(countKernels(ir, "define internal void @"), 3);
  // Each pair: its kernel, the task that calls it, and that task's name
  // passed to the parallel-for.
  EXPECT_EQ(count(ir, "_fused_dense_grad_weight_with_bias("), 2 * 3);
  EXPECT_EQ(count(ir, "_fused_matmul_with_bias("), 3);
  EXPECT_EQ(countKernels(ir, "define internal void @task_"),
            countKernels(ir, "@task_") / 2)
      << "every task is defined once and passed to the parallel-for once";
  EXPECT_EQ(count(ir, "define internal void @mnist_mlp_step_optimizer("), 1);
  EXPECT_EQ(count(ir, "call void @mnist_mlp_step_optimizer("), 1);
  int sgd = 0, bias = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    OpKind op = g[id].op;
    if (op == OpKind::Sgd || op == OpKind::SgdMomentum ||
        op == OpKind::DenseGradBias || op == OpKind::DenseGradWeight ||
        (op == OpKind::Sum && g[id].axis == 0)) {
      sgd += op == OpKind::Sgd || op == OpKind::SgdMomentum;
      bias += op == OpKind::DenseGradBias;
      // No kernel of its own: computed in a group.
      EXPECT_EQ(ir.find("@" + cpuKernelName(g, id) + "("), std::string::npos)
          << cpuKernelName(g, id);
    }
  }
  EXPECT_EQ(sgd, 12);
  EXPECT_EQ(bias, 2);
  // One loop per parameter in the optimizer kernel (its momentum buffer
  // and its step in one pass, codegen/cpu/EmitUpdates.cpp); without
  // CpuOptions::updateChains, one per parameter and momentum buffer, and
  // one for each of the l2 gradients of fc1 and fc2 the group computes
  // (passes/UpdateChains.h; in the chains, they are in their loops).
  EXPECT_EQ(count(optimizerKernel(ir, "mnist_mlp"), "\ni.head"), 6);
  CpuOptions apart;
  apart.updateChains = false;
  std::string two = emitLlvmText(g, planMemory(g, 64), false, apart);
  EXPECT_EQ(count(optimizerKernel(two, "mnist_mlp"), "\ni.head"), 14);
}

TEST(CpuKernelGroups, AdamUpdatesOfAParameterCanShareOneLoop) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn";
  std::string text = readText(path);
  size_t at = text.find("optimizer sgd(");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at,
               "optimizer adamw(lr = 0.01, weight_decay = 0.1)");
  Model m = throughPipeline(parseText(path, text), Stage::Fused);
  const Graph &g = m.graph;
  // The recipe's batch, as `nnc train` plans it.
  MemoryPlan plan = planMemory(g, 64);
  CpuOptions chains;
  std::string ir = emitLlvmText(g, plan, false, chains);
  // fused.adam_moment, fused.adam_variance and fused.adam of each of the
  // six parameters: one loop each, reading w, g, m, v once.
  int updates = 0;
  for (const Node &n : g.nodes)
    updates += family(n.op) == OpFamily::Update;
  EXPECT_EQ(updates, 18);
  EXPECT_EQ(count(optimizerKernel(ir, "mnist_mlp"), "\ni.head"), 6);
  // Under the real plan (in place), the step's updates are the
  // interpreter's, at step 3 with v >= 0.
  ValueMap leaves = randomLeaves(g, 64, 3);
  for (auto &[name, v] : leaves) {
    if (name == "optimizer.step")
      v.data[0] = 2;
    else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".v") == 0)
      for (double &x : v.data)
        x = std::fabs(x);
  }
  Interpreter::Result want = Interpreter(g).step(leaves);
  ASSERT_EQ(want.updates.size(), 19u); // 6 x (w, m, v) and optimizer.step
  // Chains or not, the same bits; both the interpreter's values.
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, chains);
  CpuRun run = runProgram(g, *prog, leaves, 64);
  CpuOptions separate;
  separate.updateChains = false;
  std::unique_ptr<CpuProgram> apart = compileCpu(g, plan, separate);
  CpuRun sep = runProgram(g, *apart, leaves, 64);
  for (const auto &[name, v] : want.updates) {
    expectClose(run.leaves.at(name), v.data, 1e-4, "update of " + name);
    EXPECT_TRUE(sameBits(run.leaves.at(name), sep.leaves.at(name))) << name;
  }
}

TEST(CpuKernelGroups, VerifierFailureInAGroupNamesItsKernel) {
  Model m = loadExample("xor.nn", Stage::Fused);
  NodeId victim = -1;
  for (NodeId id = 0; id < m.graph.size() && victim < 0; ++id)
    if (m.graph[id].op == OpKind::Sgd)
      victim = id;
  ASSERT_GE(victim, 0);
  CpuOptions opts;
  opts.corruptKernelForTest = victim;
  std::string msg;
  try {
    compileCpu(m.graph, planMemory(m.graph, 4), opts);
  } catch (const InternalError &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("the generated kernel " + cpuStepSymbol(m.graph) +
                     "_optimizer for '"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("fused.sgd"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dominate"), std::string::npos) << msg;
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
