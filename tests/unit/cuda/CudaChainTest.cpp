//===- CudaChainTest.cpp - One CUDA kernel per parameter's updates --------===//
///
/// \file
/// The chain kernels of codegen/cuda/CudaChains.cpp: each parameter's
/// fused updates (sgd-momentum: momentum + step; Adam and AdamW: moment +
/// variance + step; a weight's with its l2 gradient folded in, and without)
/// and each l2 sum with its square folded in, printed as one kernel,
/// launched by the step in place of
/// its members (cudaLaunchList), run by the host emulator over chained
/// steps bit for bit equal to the per-op kernels and close to the
/// interpreter, falling back to one kernel per op when the memory plan does
/// not allow the move, and compiled by NVRTC for sm_90.
///
//===----------------------------------------------------------------------===//

#include "CudaEmulator.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"
#include "codegen/cuda/CudaStep.h"
#include "codegen/cuda/Nvrtc.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

using namespace nn;
using namespace nn::cudatest;

namespace {

std::string model(const std::string &optimizer) {
  return "model chain\ninput x : f32[6]\nlabel y : class(3)\n"
         "h = dense(x, 5, relu)\nz = dense(h, 3)\n"
         "loss cross_entropy(softmax(z), y)\n"
         "train {\n  optimizer " +
         optimizer + "\n  l2 1e-3\n}\n";
}

struct Case {
  std::string line;
  size_t members; // updates per parameter
};

const std::vector<Case> &cases() {
  static const std::vector<Case> c = {
      // Not nesterov: its fused.sgd reads g + momentum * m', a fused
      // elementwise node between the two updates, so they form no chain.
      {"sgd(lr = 0.1, momentum = 0.9, weight_decay = 0.01)", 2},
      {"adam(lr = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-6, "
       "weight_decay = 0.1)",
       3},
      {"adamw(lr = 0.01, weight_decay = 0.5)", 3}};
  return c;
}

/// Random leaves with a valid optimizer state (v >= 0, 2 steps done).
ValueMap stateLeaves(const Graph &g, uint64_t seed) {
  ValueMap l = randomLeaves(g, 7, seed);
  for (auto &[name, v] : l) {
    if (name == "optimizer.step")
      v.data[0] = 2;
    else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".v") == 0)
      for (double &x : v.data)
        x = std::fabs(x);
  }
  return l;
}

/// `src` without its chain kernels: one kernel per node.
CudaSource perOp(CudaSource src) {
  std::erase_if(src.kernels,
                [](const CudaKernel &k) { return !k.members.empty(); });
  return src;
}

size_t chainLaunches(const Graph &g, const CudaSource &src,
                     const MemoryPlan &plan) {
  size_t n = 0;
  for (size_t i : cudaLaunchList(g, src, plan))
    n += !src.kernels[i].members.empty();
  return n;
}

bool sameBits(const Tensor &a, const Tensor &b) {
  return a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(),
                     a.data.size() * sizeof(float)) == 0;
}

} // namespace

TEST(CudaChains, OneKernelPerParameterReplacesItsUpdates) {
  for (const Case &c : cases()) {
    Model m = loadModelText("chain.nn", model(c.line), Stage::Fused);
    const Graph &g = m.graph;
    CudaSource src = printCuda(g);
    size_t chains = 0, gradChains = 0, sums = 0, updates = 0, perOp = 0;
    for (const CudaKernel &k : src.kernels) {
      if (k.members.empty()) {
        ++perOp;
        updates += family(g[k.node].op) == OpFamily::Update;
        continue;
      }
      EXPECT_EQ(k.node, k.members.back()) << c.line;
      if (family(g[k.node].op) != OpFamily::Update) {
        // l2's sum(mul(w, w)) of each weight: one pass over w.
        ++sums;
        EXPECT_EQ(k.members.size(), 2u) << k.name;
        EXPECT_EQ(g[k.node].op, OpKind::Sum) << k.name;
        continue;
      }
      // Each weight's chain with its l2 gradient (2 lambda w + g, folded)
      // and without; each bias's chain.
      bool folded = family(g[k.members.front()].op) != OpFamily::Update;
      gradChains += folded;
      chains += !folded;
      EXPECT_EQ(k.members.size(), c.members + folded) << c.line << ": " << k.name;
      EXPECT_EQ(cudaKernelArgs(g, k).size(),
                (c.members == 2 ? 8u : 16u) +
                    (folded ? 1 + g[k.members.front()].inputs.size() : 0u))
          << c.line;
    }
    EXPECT_EQ(chains, 4u) << c.line; // two weights, two biases
    // Each weight's gradient 2 lambda w + dW (+ the decay's term); with
    // Adam's coupled weight decay, each bias's too.
    size_t folds = c.line.rfind("adamw(", 0) == 0 ? 2u : 4u;
    EXPECT_EQ(gradChains, folds) << c.line;
    EXPECT_EQ(sums, 2u) << c.line;
    EXPECT_EQ(updates, 4 * c.members) << c.line;
    MemoryPlan plan = planMemory(g, 7);
    std::vector<size_t> list = cudaLaunchList(g, src, plan);
    // Both weights' chains with their gradients, the biases' chains and
    // both sums, in place of 4 * members updates, 2 gradients, 2 squares
    // and 2 sums.
    // Where the plan keeps a gradient's operands intact until its update
    // (not always: it may reuse a product's buffer), the chain with it.
    EXPECT_EQ(chainLaunches(g, src, plan), 6u) << c.line;
    size_t folded = 0;
    for (size_t i : list)
      folded += !src.kernels[i].members.empty() &&
                family(g[src.kernels[i].members.front()].op) !=
                    OpFamily::Update &&
                family(g[src.kernels[i].node].op) == OpFamily::Update;
    EXPECT_GE(folded, 1u) << c.line;
    EXPECT_EQ(list.size(), perOp - 4 * c.members - folded - 4 + 6) << c.line;
    // Every node computed exactly once.
    std::vector<int> computed(g.size());
    for (size_t i : list) {
      const CudaKernel &k = src.kernels[i];
      for (NodeId id : k.members.empty() ? std::vector<NodeId>{k.node}
                                         : k.members)
        ++computed[id];
    }
    for (NodeId id = 0; id < g.size(); ++id)
      EXPECT_EQ(computed[id], hasTrait(g[id].op, kLeaf) ? 0 : 1)
          << c.line << ": %" << id;
  }
}

TEST(CudaChains, EmulatedChainsEqualThePerOpKernelsBitForBit) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer does not follow ucontext fibers";
#endif
  for (const Case &c : cases()) {
    Model m = loadModelText("chain.nn", model(c.line), Stage::Fused);
    const Graph &g = m.graph;
    CudaSource chained = printCuda(g), separate = perOp(chained);
    ASSERT_EQ(chainLaunches(g, chained, planMemory(g, 7)), 6u) << c.line;
    CudaEmulator a(chained), b(separate);
    ValueMap want = stateLeaves(g, 9);
    TensorMap sa = toTensors(want, g, true), sb = sa;
    for (int step = 0; step < 3; ++step) {
      ValueMap in = randomLeaves(g, 7, 70 + static_cast<uint64_t>(step));
      for (const Node &n : g.nodes)
        if (n.op == OpKind::Input || n.op == OpKind::Label)
          want[n.name] = in.at(n.name);
      TensorMap oa = a.runStep(g, sa, toTensors(in, g, false));
      TensorMap ob = b.runStep(g, sb, toTensors(in, g, false));
      // The loss: l2's sums with their squares folded in, the same bits.
      for (const auto &[name, v] : ob)
        EXPECT_TRUE(sameBits(oa.at(name), v)) << c.line << ": output " << name;
      for (const auto &[name, v] : Interpreter(g).step(want).updates)
        want[name] = v;
    }
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Param || n.op == OpKind::State) {
        EXPECT_TRUE(sameBits(sa.at(n.name), sb.at(n.name)))
            << c.line << ", after 3 steps: " << n.name;
        expectClose(sa.at(n.name), want.at(n.name), 1e-4,
                    c.line + ", after 3 steps: " + n.name);
      }
  }
}

TEST(CudaChains, APartialOverlapFallsBackToOneKernelPerOp) {
  Model m = loadModelText("chain.nn", model(cases()[1].line), Stage::Fused);
  const Graph &g = m.graph;
  CudaSource src = printCuda(g);
  MemoryPlan plan = planMemory(g, 7);
  ASSERT_EQ(chainLaunches(g, src, plan), 6u);
  // A weight's chain of updates alone (its gradient larger than the
  // arena's alignment); the chain with its folded gradient comes first.
  auto plainChain = [&](const CudaKernel &k) {
    return !k.members.empty() &&
           family(g[k.members.front()].op) == OpFamily::Update &&
           plan.bytes[g[k.members.front()].inputs[1]] > kArenaAlign;
  };
  size_t c = 0;
  while (c < src.kernels.size() && !plainChain(src.kernels[c]))
    ++c;
  ASSERT_LT(c, src.kernels.size());
  const CudaKernel &k = src.kernels[c];
  // The chains' results in the arena (not in place), the first one put
  // half a slot over the gradient it reads.
  for (NodeId id : k.members)
    src.inPlace[id] = -1;
  NodeId r = k.members.front(), grad = g[r].inputs[1];
  ASSERT_EQ(cudaPlaceOf(g, src, plan, grad).kind, CudaPlace::Arena);
  // The chain kernels that compute r in `list`.
  auto chainsOfR = [&](const std::vector<size_t> &list) {
    size_t n = 0;
    for (size_t i : list)
      n += std::count(src.kernels[i].members.begin(),
                      src.kernels[i].members.end(), r);
    return n;
  };
  MemoryPlan bad = plan;
  bad.offset[r] = plan.offset[grad] + kArenaAlign;
  std::vector<size_t> list = cudaLaunchList(g, src, bad);
  EXPECT_EQ(chainsOfR(list), 0u);
  for (NodeId id : k.members) {
    const CudaKernel *one = src.kernelOf(id);
    ASSERT_NE(one, nullptr);
    EXPECT_EQ(std::count(list.begin(), list.end(),
                         static_cast<size_t>(one - src.kernels.data())),
              1)
        << "%" << id;
  }
  // Exactly in the gradient's slot, a chain still runs.
  MemoryPlan same = plan;
  same.offset[r] = plan.offset[grad];
  same.bytes[r] = plan.bytes[grad];
  EXPECT_EQ(chainsOfR(cudaLaunchList(g, src, same)), 1u);
}

TEST(CudaChains, NvrtcCompilesTheChainKernelsForSm90) {
  if (!nvrtcAvailable())
    GTEST_SKIP() << "this build has no NVRTC (CUDA toolkit not found at "
                    "configure time)";
  char tmpl[] = "/tmp/nnc-nvrtc-chain-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  NvrtcOptions opts;
  opts.arch = "sm_90";
  opts.cacheDir = dir;
  for (const Case &c : cases()) {
    Model m = loadModelText("chain.nn", model(c.line), Stage::Fused);
    CudaSource src = printCuda(m.graph);
    EXPECT_NO_THROW(compileCuda(src, opts)) << c.line;
  }
  std::filesystem::remove_all(dir);
}
