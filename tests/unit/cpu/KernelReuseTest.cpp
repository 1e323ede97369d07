//===- KernelReuseTest.cpp - One function for identical kernels -----------===//
///
/// \file
/// A stack of equal dense layers compiles each distinct kernel once: the
/// module of a 10-layer stack has as many kernel functions as a 5-layer one
/// (it had one per node, so compile time grew with depth), every node still
/// gets its value (checked against the interpreter, fused and unfused), and
/// --profile builds keep one kernel per node (their tick names name nodes).
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

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

int count(const std::string &s, const std::string &what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos;
       p = s.find(what, p + 1))
    ++n;
  return n;
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
    EXPECT_EQ(count(a, "define internal void @k"),
              count(b, "define internal void @k"))
        << what;
    // Every node still calls a kernel: the deeper step makes more calls.
    EXPECT_GT(count(b, "call void @k") + count(b, "@task_k"),
              count(a, "call void @k") + count(a, "@task_k"))
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
  EXPECT_GT(count(timed, "define internal void @k"),
            count(plain, "define internal void @k"));
  // Each kernel is called once (from the entry point or from its task).
  EXPECT_EQ(count(timed, "define internal void @k"),
            count(timed, "call void @k"));
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
