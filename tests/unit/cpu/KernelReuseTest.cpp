//===- KernelReuseTest.cpp - One function for identical kernels -----------===//
///
/// \file
/// A stack of equal dense layers compiles each distinct kernel once: the
/// module of a 10-layer stack has as many kernel functions as a 5-layer one
/// (it had one per node, so compile time grew with depth), every node still
/// gets its value (checked against the interpreter, fused and unfused), and
/// --profile builds keep one kernel per node (their tick names name nodes).
/// A long step is cut into functions of at most 128 kernel calls, and its
/// SGD updates into optimizer kernels of at most 64 (one function of
/// everything made LLVM's code generation superlinear in the depth), with
/// the same values.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/CpuSteps.h"

using namespace nn;
using namespace nn::test;

namespace {

/// `layers` dense layers of width 3 on a 3-wide input, cross-entropy loss.
Model stack(int layers, Stage stage, std::set<std::string> fusions) {
  std::string text = "model deep\ninput x : f32[3]\nlabel y : class(3)\n"
                     "h0 = dense(x, 3, relu)\n";
  for (int i = 1; i < layers; ++i)
    text += "h" + std::to_string(i) + " = dense(h" + std::to_string(i - 1) +
            ", 3, tanh)\n";
  text += "loss cross_entropy(softmax(h" + std::to_string(layers - 1) +
          "), y)\ntrain { optimizer sgd(lr = 0.1, momentum = 0.9) }\n";
  return throughPipeline(parseText("deep.nn", text), stage, fusions);
}

const std::set<std::string> kAll = {fusionNames().begin(),
                                    fusionNames().end()};

TEST(CpuKernelReuse, DeeperStacksAddNoKernelFunctions) {
  for (const std::set<std::string> &fusions :
       {kAll, std::set<std::string>{}}) {
    // From 5 layers on, every kind of layer is there (the first, the one
    // after it, the middle ones, the last two); more add only middle ones.
    Model shallow = stack(5, Stage::Fused, fusions);
    Model deep = stack(10, Stage::Fused, fusions);
    std::string a = emitLlvmText(shallow.graph, planMemory(shallow.graph, 4),
                                 false);
    std::string b = emitLlvmText(deep.graph, planMemory(deep.graph, 4), false);
    std::string what = fusions.empty() ? "unfused" : "fused";
    // (Node kernels; the one optimizer kernel may or may not get a task.)
    EXPECT_EQ(countKernels(a, "define internal void @"),
              countKernels(b, "define internal void @"))
        << what;
    // Every node still calls a kernel: the deeper step makes more calls.
    EXPECT_GT(countKernels(b, "call void @") + countKernels(b, "@task_"),
              countKernels(a, "call void @") + countKernels(a, "@task_"))
        << what;
  }
}

TEST(CpuKernelReuse, SharedKernelsComputeEveryNode) {
  for (const std::set<std::string> &fusions :
       {kAll, std::set<std::string>{}}) {
    Model m = stack(6, Stage::Fused, fusions);
    for (int64_t batch : {1, 5})
      checkAgainstInterpreter(m.graph, randomLeaves(m.graph, batch, 3), batch,
                              5, 1e-4,
                              std::string(fusions.empty() ? "unfused"
                                                          : "fused") +
                                  " at batch " + std::to_string(batch));
  }
}

TEST(CpuKernelReuse, ProfiledModulesKeepOneKernelPerNode) {
  Model m = stack(4, Stage::Fused, {});
  CpuOptions profiled;
  profiled.profile = true;
  std::string plain = emitLlvmText(m.graph, planMemory(m.graph, 4), false);
  std::string timed =
      emitLlvmText(m.graph, planMemory(m.graph, 4), false, profiled);
  // Without the trainer's run of steps that calls the step (emitted last,
  // codegen/cpu/EmitEpoch.cpp).
  timed = timed.substr(0, timed.find("define i64 @" + cpuStepsSymbol(m.graph) +
                                     "("));
  EXPECT_GT(countKernels(timed, "define internal void @"),
            countKernels(plain, "define internal void @"));
  // Each kernel is called once (from the entry point or from its task).
  EXPECT_EQ(countKernels(timed, "define internal void @"),
            countKernels(timed, "call void @"));
}

/// The lines of the function `name` in `ir` (its body), "" if none.
std::string functionBody(const std::string &ir, const std::string &name) {
  size_t at = ir.find("define internal void @" + name + "(");
  if (at == std::string::npos)
    at = ir.find("define void @" + name + "(");
  if (at == std::string::npos)
    return "";
  return ir.substr(at, ir.find("\n}\n", at) - at);
}

TEST(CpuKernelReuse, LongStepsAreCutIntoParts) {
  Model m = stack(60, Stage::Fused, kAll);
  const Graph &g = m.graph;
  std::string ir = emitLlvmText(g, planMemory(g, 4), false);
  int parts = count(ir, "define internal void @deep_step_part");
  EXPECT_GE(parts, 2);
  EXPECT_EQ(count(functionBody(ir, "deep_step"), "call void @deep_step_part"),
            parts)
      << "the entry calls each part";
  for (int p = 0; p < parts; ++p) {
    std::string body = functionBody(ir, "deep_step_part" + std::to_string(p));
    EXPECT_LE(countKernels(body, "call void @") + count(body, "@parallel_for") +
                  count(body, "call void @deep_step_optimizer") +
                  count(body, "@llvm.memcpy"),
              128)
        << "part " << p;
  }
  int updates = 0;
  for (NodeId id = 0; id < g.size(); ++id)
    updates += g[id].op == OpKind::Sgd || g[id].op == OpKind::SgdMomentum;
  ASSERT_GT(updates, 64);
  // (Counted without kernel reuse, which shares equal optimizer kernels.)
  CpuOptions profiled;
  profiled.profile = true;
  EXPECT_EQ(count(emitLlvmText(g, planMemory(g, 4), false, profiled),
                  "define internal void @deep_step_optimizer"),
            (updates + 63) / 64);
  // A short step stays one function (the golden tests read it whole).
  Model small = stack(5, Stage::Fused, kAll);
  EXPECT_EQ(count(emitLlvmText(small.graph, planMemory(small.graph, 4), false),
                  "_part"),
            0);
}

TEST(CpuKernelReuse, PartsComputeWhatTheInterpreterDoes) {
  for (const std::set<std::string> &fusions :
       {kAll, std::set<std::string>{}}) {
    Model m = stack(60, Stage::Fused, fusions);
    checkAgainstInterpreter(m.graph, randomLeaves(m.graph, 3, 11), 3, 4, 1e-4,
                            fusions.empty() ? "unfused" : "fused");
  }
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
