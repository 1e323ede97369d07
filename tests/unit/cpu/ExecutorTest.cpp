//===- ExecutorTest.cpp - --backend=cpu through the Executor interface ----===//
///
/// \file
/// The lecture's churn numbers computed by generated code; the executor's
/// checks of user input (missing leaves, wrong shapes, rows that disagree,
/// bad class ids) with the interpreter's messages; a batch larger than the
/// compiled one; and a kernel that fails LLVM's verifier reported as an
/// internal error naming it, never run.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "ir/Support.h"
#include "runtime/CpuExecutor.h"
#include "runtime/Executor.h"

using namespace nn;
using namespace nn::test;

namespace {

/// Executors made here compile afresh: the tests leave the user's JIT cache
/// alone (codegen/cpu/JitCache has its own tests).
const ExecutorOptions kNoCache = [] {
  ExecutorOptions o;
  o.cpu.noCache = true;
  return o;
}();

Tensor tensor(std::vector<int64_t> shape, std::vector<float> data) {
  Tensor t(std::move(shape));
  t.data = std::move(data);
  return t;
}

/// The message of the UserError `f` throws ("" when it does not throw).
template <class F> std::string userErrorOf(F f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

TEST(CpuExecutor, ChurnGivesTheLectureLoss) {
  Model m = loadExample("churn.nn", Stage::Forward);
  std::unique_ptr<Executor> ex = makeExecutor("cpu", m.graph, kNoCache);
  ex->setState({{"w", tensor({2}, {0.1f, 0.5f})}, {"b", tensor({}, {0.4f})}});
  TensorMap out =
      ex->run({{"x", tensor({5, 2}, {15, 22, 8, 6, 60, 7, 12, 21, 5, 2})},
               {"y", tensor({5}, {1, 0, 1, 0, 0})}});
  // The lecture's table: mean BCE 3.6709; P(keep) of user B = sigmoid(4.2).
  EXPECT_NEAR(out.at("loss")[0], 3.6709, 1e-4);
  ASSERT_EQ(out.at("pred").numel(), 5);
  EXPECT_NEAR(out.at("pred")[1], 1 / (1 + std::exp(-4.2)), 1e-6);
  EXPECT_NEAR(out.at("pred")[4], 1 / (1 + std::exp(-1.9)), 1e-6);
}

TEST(CpuExecutor, StepsUpdateTheHeldStateLikeTheInterpreter) {
  Model m = loadExample("xor.nn", Stage::Opt);
  ValueMap l = randomLeaves(m.graph, 4, 23);
  TensorMap state, batch;
  for (const auto &[name, v] : l) {
    NodeId id = -1;
    for (OpKind k : {OpKind::Param, OpKind::State, OpKind::Input,
                     OpKind::Label})
      if (auto f = m.graph.findLeaf(k, name))
        id = *f;
    ASSERT_GE(id, 0) << name;
    OpKind k = m.graph[id].op;
    (k == OpKind::Param || k == OpKind::State ? state : batch)[name] =
        toTensor(v);
  }
  std::unique_ptr<Executor> cpu = makeExecutor("cpu", m.graph, kNoCache);
  std::unique_ptr<Executor> interp = makeExecutor("interp", m.graph);
  cpu->setState(state);
  interp->setState(state);
  for (int step = 0; step < 5; ++step) {
    TensorMap a = cpu->run(batch), b = interp->run(batch);
    EXPECT_NEAR(a.at("loss")[0], b.at("loss")[0],
                1e-4 * std::fabs(b.at("loss")[0]))
        << "step " << step;
  }
  for (const auto &[name, t] : interp->state()) {
    std::vector<double> want(t.data.begin(), t.data.end());
    expectClose(cpu->state().at(name).data, want, 1e-4, name);
  }
}

TEST(CpuExecutor, LargerBatchRecompiles) {
  Model m = loadExample("churn.nn", Stage::Forward);
  std::unique_ptr<Executor> ex = makeExecutor("cpu", m.graph, kNoCache);
  ex->setState({{"w", tensor({2}, {0.1f, 0.5f})}, {"b", tensor({}, {0.4f})}});
  TensorMap small = ex->run({{"x", tensor({1, 2}, {15, 22})},
                             {"y", tensor({1}, {1})}});
  TensorMap big = ex->run(
      {{"x", tensor({3, 2}, {15, 22, 8, 6, 60, 7})},
       {"y", tensor({3}, {1, 0, 1})}});
  ASSERT_EQ(big.at("pred").numel(), 3);
  EXPECT_EQ(small.at("pred")[0], big.at("pred")[0]);
  EXPECT_NEAR(big.at("pred")[2], 1 / (1 + std::exp(-(0.4 + 6 + 3.5))), 1e-6);
}

TEST(CpuExecutor, BadInputIsAUserError) {
  Model m = loadExample("mnist_mlp.nn", Stage::Forward);
  std::unique_ptr<Executor> ex = makeExecutor("cpu", m.graph, kNoCache);
  TensorMap state;
  for (NodeId id : m.graph.leaves(OpKind::Param))
    state[m.graph[id].name] = Tensor(m.graph[id].type.dims);
  ex->setState(state);
  Tensor x({2, 784});
  EXPECT_NE(userErrorOf([&] { ex->run({{"x", x}}); })
                .find("error: no value given for label 'y'"),
            std::string::npos);
  EXPECT_NE(userErrorOf([&] {
              ex->run({{"x", Tensor({2, 783})}, {"y", tensor({2}, {1, 2})}});
            }).find("error: value for input 'x' has shape [2,783] but its "
                    "type f32[N,784] needs [2,784]"),
            std::string::npos);
  EXPECT_NE(userErrorOf([&] {
              ex->run({{"x", x}, {"y", tensor({3}, {1, 2, 3})}});
            }).find("label 'y' has 3 rows but input 'x' has 2"),
            std::string::npos);
  std::string e = userErrorOf(
      [&] { ex->run({{"x", x}, {"y", tensor({2}, {1, 10})}}); });
  EXPECT_NE(e.find("mnist_mlp.nn:5:7: error: label 10 out of range for "
                   "class(10) (label 'y', row 1)"),
            std::string::npos)
      << e;
  e = userErrorOf([&] { ex->run({{"x", x}, {"y", tensor({2}, {0.5f, 1})}}); });
  EXPECT_NE(e.find("error: label 0.5 is not a class id (label 'y', row 0)"),
            std::string::npos)
      << e;
  // After the errors, good input still runs.
  TensorMap out = ex->run({{"x", x}, {"y", tensor({2}, {1, 9})}});
  EXPECT_NEAR(out.at("loss")[0], std::log(10.0), 1e-5); // all-zero weights
}

TEST(CpuExecutor, UnknownBackendListsCpu) {
  std::string e = userErrorOf([] { checkBackend("gpu"); });
  EXPECT_NE(e.find("unknown backend 'gpu' (available: interp, cpu"),
            std::string::npos)
      << e;
}

TEST(CpuCodegen, VerifierFailureIsAnInternalErrorNamingTheKernel) {
  Model m = loadExample("xor.nn", Stage::Opt);
  NodeId victim = *m.graph.output("loss");
  CpuOptions opts;
  opts.corruptKernelForTest = victim;
  std::string msg;
  try {
    compileCpu(m.graph, planMemory(m.graph, 4), opts);
  } catch (const InternalError &e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("the generated kernel " +
                     cpuKernelName(m.graph, victim)),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("fails LLVM's verifier"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dominate"), std::string::npos) << msg;
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND
