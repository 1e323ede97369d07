//===- CudaPrinterTest.cpp - The CUDA C++ printer -------------------------===//
///
/// \file
/// What printCuda produces without compiling it: one kernel per non-leaf
/// node named after its `.nn` line, launch shapes as functions of the batch,
/// source line ranges, float literals that round to the interpreter's
/// values, and a kernel for every op kind the examples reach, fused or not.
///
//===----------------------------------------------------------------------===//

#include "CudaTestUtil.h"

#include "codegen/cuda/CudaEmit.h"
#include "codegen/cuda/CudaPrinter.h"
#include "ir/KernelNames.h"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>

using namespace nn;
using namespace nn::cudatest;

namespace {

TEST(CudaPrinter, FloatLiteralsRoundToTheSameFloat) {
  for (double v :
       {0.05, 1e-4, 0.9, 1.0, 2.0, -3.25, 123456.789, 1e-38, 3.4e38, 0.1}) {
    std::string s = cuda::floatLit(v);
    ASSERT_EQ(s.back() == ')' ? s[s.size() - 2] : s.back(), 'f') << s;
    std::string digits = s;
    if (digits.front() == '(')
      digits = digits.substr(1, digits.size() - 2);
    digits.pop_back(); // 'f'
    EXPECT_EQ(std::strtof(digits.c_str(), nullptr), static_cast<float>(v)) << s;
  }
  EXPECT_EQ(cuda::floatLit(1.0), "1.0f");
  EXPECT_EQ(cuda::floatLit(0.05), "0.05f");
  EXPECT_EQ(cuda::floatLit(-2.0), "(-2.0f)"); // never "--2.0f" after a minus
  EXPECT_EQ(cuda::floatLit(-0.0), "(-0.0f)");
  EXPECT_EQ(cuda::floatLit(INFINITY), "__uint_as_float(0x7f800000u)");
  EXPECT_EQ(cuda::floatLit(-INFINITY), "__uint_as_float(0xff800000u)");
  EXPECT_EQ(cuda::floatLit(NAN), "__uint_as_float(0x7fffffffu)");
}

TEST(CudaPrinter, ExtentsAndLaunchShapes) {
  CudaExtent e{10, 1};
  EXPECT_EQ(e.at(64), 640);
  EXPECT_EQ(e.str(), "10*N");
  EXPECT_EQ((CudaExtent{1, 1}).str(), "N");
  EXPECT_EQ((CudaExtent{784, 0}).str(), "784");
  EXPECT_EQ((CudaExtent{3, 2}).at(5), 75);

  CudaKernel k;
  k.launch = CudaLaunchKind::Elements;
  k.count = {100, 1};
  EXPECT_EQ(cudaLaunchDims(k, 64).grid, 25u); // 6400 / 256
  EXPECT_EQ(cudaLaunchDims(k, 64).block, static_cast<unsigned>(kCudaBlock));
  EXPECT_EQ(cudaLaunchDims(k, 0).grid, 0u); // nothing to do: no launch
  k.count = {1, 0};
  EXPECT_EQ(cudaLaunchDims(k, 64).grid, 1u);
  k.count = {int64_t(1) << 40, 0}; // grid-stride loops: the grid is capped
  EXPECT_EQ(cudaLaunchDims(k, 1).grid, 1u << 20);

  k.launch = CudaLaunchKind::Gemm;
  k.rows = {1, 1};
  k.cols = {128, 0};
  EXPECT_EQ(cudaLaunchDims(k, 64).grid, 2u); // 1 x 2 tiles of 64 x 64
  EXPECT_EQ(cudaLaunchDims(k, 65).grid, 4u); // 2 x 2
  EXPECT_FALSE(cudaLaunchDims(k, 65).big);
  EXPECT_EQ(cudaLaunchName(k, cudaLaunchDims(k, 65)), k.name);
  // The big variant from bigTileMin results on: tiles of 128 x 128.
  k.name = "k1";
  k.bigName = "k1_big";
  k.bigTileMin = 128 * 1000;
  EXPECT_FALSE(cudaLaunchDims(k, 999).big);
  EXPECT_EQ(cudaLaunchDims(k, 999).grid, 32u); // 16 x 2 of 64 x 64
  EXPECT_TRUE(cudaLaunchDims(k, 1000).big);
  EXPECT_EQ(cudaLaunchDims(k, 1000).grid, 8u); // 8 x 1 of 128 x 128
  EXPECT_EQ(cudaLaunchName(k, cudaLaunchDims(k, 1000)), "k1_big");
  k.bigName.clear(); // no big variant: never big
  EXPECT_FALSE(cudaLaunchDims(k, 1000).big);
  EXPECT_EQ(cudaLaunchDims(k, 1000).grid, 32u);
  // Split-K: mnist's first layer at batch 64 (64 x 128, K = 784) is 2 tiles
  // of 49 slices: 10 splits of at most 5 slices, 20 blocks.
  k.rows = {1, 1};
  k.cols = {128, 0};
  k.depth = {784, 0};
  CudaLaunchDims split = cudaLaunchDims(k, 64);
  EXPECT_EQ(split.splits, 10u);
  EXPECT_EQ(split.grid, 20u);
  k.depth = {48, 0}; // 3 slices: too short to split
  EXPECT_EQ(cudaLaunchDims(k, 64).splits, 1u);
  EXPECT_EQ(cudaLaunchDims(k, 64).grid, 2u);
  k.depth = {1 << 20, 0}; // long: at most kCudaMaxSplits
  EXPECT_EQ(cudaLaunchDims(k, 64).splits,
            static_cast<unsigned>(kCudaMaxSplits));
  EXPECT_EQ(cudaLaunchDims(k, 1100).splits, 1u); // 18 x 2 tiles: enough
  k.splitK = false;
  EXPECT_EQ(cudaLaunchDims(k, 64).splits, 1u);
  EXPECT_EQ(cudaLaunchDims(k, 64).grid, 2u);
  k.launch = CudaLaunchKind::Single;
  EXPECT_EQ(cudaLaunchDims(k, 1000).grid, 1u);
  k.launch = CudaLaunchKind::Columns; // 32 results per block
  k.count = {4096, 0};
  EXPECT_EQ(cudaLaunchDims(k, 1).grid, 128u);
  k.count = {10, 1};
  EXPECT_EQ(cudaLaunchDims(k, 7).grid, 3u); // 70 results
  EXPECT_EQ(cudaLaunchDims(k, 0).grid, 0u);
}

TEST(CudaPrinter, OneKernelPerNodeNamedAfterItsBinding) {
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  const Graph &g = m.graph;
  CudaSource src = printCuda(g);
  EXPECT_EQ(src.graph, "mnist_mlp");
  size_t nonLeaves = 0;
  for (const Node &n : g.nodes)
    nonLeaves += !hasTrait(n.op, kLeaf);
  ASSERT_EQ(src.kernels.size(), nonLeaves);
  std::regex name(R"([a-z][a-z0-9_]*)");
  std::set<std::string> seen;
  int lastLine = 0;
  for (const CudaKernel &k : src.kernels) {
    const Node &n = g[k.node];
    EXPECT_FALSE(hasTrait(n.op, kLeaf));
    EXPECT_TRUE(std::regex_match(k.name, name)) << k.name;
    EXPECT_EQ(k.name, cudaKernelName(g, k.node));
    EXPECT_TRUE(seen.insert(k.name).second) << "two kernels " << k.name;
    std::string own = cIdentifier(n.name); // not a node id or a line
    if (!own.empty()) {
      EXPECT_TRUE(k.name == own || k.name.rfind(own + "_", 0) == 0) << k.name;
    }
    EXPECT_NE(src.code.find("extern \"C\" __global__ void "
                            "__launch_bounds__(NN_BLOCK)\n" +
                            k.name + "("),
              std::string::npos)
        << k.name;
    // Line ranges are in order, disjoint, and map back to the kernel.
    EXPECT_GT(k.firstLine, lastLine);
    EXPECT_GE(k.lastLine, k.firstLine);
    lastLine = k.lastLine;
    EXPECT_EQ(src.kernelAtLine(k.firstLine), &k);
    EXPECT_EQ(src.kernelAtLine(k.lastLine), &k);
    EXPECT_EQ(src.kernelOf(k.node), &k);
  }
  EXPECT_EQ(src.kernelAtLine(1), nullptr); // the prelude
  // The first kernel's signature is on its first line.
  std::istringstream lines(src.code);
  std::string line;
  for (int i = 1; i <= src.kernels[0].firstLine; ++i)
    std::getline(lines, line);
  EXPECT_EQ(line.rfind("extern \"C\" __global__", 0), 0u) << line;
}

TEST(CudaPrinter, LaunchesFollowTheOp) {
  Model m = loadExample("mnist_mlp.nn", Stage::Opt);
  const Graph &g = m.graph;
  CudaSource src = printCuda(g);
  int gemms = 0, singles = 0, columns = 0;
  for (const CudaKernel &k : src.kernels) {
    const Node &n = g[k.node];
    if (n.op == OpKind::MatMul) {
      ++gemms;
      EXPECT_EQ(k.launch, CudaLaunchKind::Gemm) << k.name;
      const std::vector<int64_t> &d = n.type.dims;
      ASSERT_EQ(d.size(), 2u);
      EXPECT_EQ(k.rows.at(64), d[0] == kBatch ? 64 : d[0]) << k.name;
      EXPECT_EQ(k.cols.at(64), d[1] == kBatch ? 64 : d[1]) << k.name;
    } else if (n.op == OpKind::Sum && n.axis >= 0) {
      ++columns; // the bias gradients
      EXPECT_EQ(k.launch, CudaLaunchKind::Columns) << k.name;
      EXPECT_EQ(k.count.at(64), n.type.numel(64)) << k.name;
    } else if (n.op == OpKind::SoftmaxCrossEntropy ||
               (n.op == OpKind::Sum && n.axis == -1)) {
      ++singles;
      EXPECT_EQ(k.launch, CudaLaunchKind::Single) << k.name;
    } else if (hasTrait(n.op, kElementwise)) {
      EXPECT_EQ(k.launch, CudaLaunchKind::Elements) << k.name;
      EXPECT_EQ(k.count.at(64), n.type.numel(64)) << k.name;
    }
  }
  // 3 forward, 3 weight gradients, 2 input gradients (none for x).
  EXPECT_EQ(gemms, 8);
  EXPECT_GE(singles, 4);
  EXPECT_EQ(columns, 3);
}

TEST(CudaPrinter, BigTileVariantsWhereAProductCanBeBig) {
  // mnist: the products with a batch dimension can reach the big tiles'
  // size; the weight gradients (784 x 128, 128 x 64, 64 x 10) never do.
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  CudaSource src = printCuda(m.graph);
  int big = 0;
  for (const CudaKernel &k : src.kernels) {
    if (k.launch != CudaLaunchKind::Gemm) {
      EXPECT_TRUE(k.bigName.empty()) << k.name;
      continue;
    }
    bool batched = k.rows.batchPow + k.cols.batchPow > 0;
    EXPECT_EQ(k.bigName.empty(), !batched) << k.name;
    if (!batched)
      continue;
    ++big;
    EXPECT_EQ(k.bigName, k.name + "_big");
    // The same body but the GEMM, and within the kernel's lines.
    auto body = [&](const std::string &name) {
      size_t at = src.code.find("\n" + name + "(");
      at = src.code.find('{', at);
      return src.code.substr(at, src.code.find("\n}\n", at) - at);
    };
    EXPECT_EQ(std::regex_replace(body(k.bigName), std::regex("nn_gemm128<"),
                                 "nn_gemm64<"),
              body(k.name));
    // The line of the big variant's name.
    size_t at = src.code.find("\n" + k.bigName + "(");
    int line = static_cast<int>(
        std::count(src.code.begin(),
                   src.code.begin() + static_cast<std::ptrdiff_t>(at), '\n') +
        2);
    EXPECT_EQ(src.kernelAtLine(line), &k) << k.bigName;
  }
  EXPECT_EQ(big, 5); // 3 dense layers, 2 input gradients
  // 4096 x 4096 weight gradients are big at any batch size.
  Model wide = loadExample("../benchmarks/mlp4096.nn", Stage::Fused);
  for (const CudaKernel &k : printCuda(wide.graph).kernels) {
    if (wide.graph[k.node].op == OpKind::DenseGradWeight) {
      EXPECT_EQ(k.bigName, k.name + "_big");
    }
  }
}

TEST(CudaPrinter, UpdatesComputedInPlaceHaveNoRestrictPointers) {
  // mnist's 6 parameters and 6 momenta: each SGD kernel writes its leaf
  // (passes/InPlaceUpdates), so its pointers may alias; the others keep
  // __restrict__.
  for (Stage stage : {Stage::Fused, Stage::Opt}) {
    Model m = loadExample("mnist_mlp.nn", stage);
    CudaSource src = printCuda(m.graph);
    ASSERT_EQ(src.inPlace.size(), m.graph.nodes.size());
    int inPlace = 0, chains = 0;
    for (const CudaKernel &k : src.kernels) {
      size_t at = src.code.find("\n" + k.name + "(");
      std::string sig = src.code.substr(at, src.code.find('{', at) - at);
      bool restricted = sig.find("__restrict__") != std::string::npos;
      if (!k.members.empty()) { // a parameter's chain kernel (CudaChains)
        EXPECT_FALSE(restricted) << sig;
        ++chains;
        continue;
      }
      EXPECT_EQ(restricted, src.inPlace[k.node] < 0) << sig;
      if (src.inPlace[k.node] >= 0) {
        ++inPlace;
        const Node &leaf = m.graph[src.inPlace[k.node]];
        EXPECT_TRUE(leaf.op == OpKind::Param || leaf.op == OpKind::State);
      }
    }
    EXPECT_EQ(inPlace, 12) << (stage == Stage::Fused ? "fused" : "unfused");
    // Fused: the 6 parameters' update chains, the 3 weights' with their
    // l2 gradient folded in, and the 3 l2 sums with their squares
    // (passes/UpdateChains.h).
    EXPECT_EQ(chains, stage == Stage::Fused ? 12 : 0);
  }
}

TEST(CudaPrinter, FusedOpsGetFusedKernels) {
  Model m = loadExample("mnist_mlp.nn", Stage::Fused);
  const Graph &g = m.graph;
  CudaSource src = printCuda(g);
  std::set<OpKind> seen;
  for (const CudaKernel &k : src.kernels) {
    const Node &n = g[k.node];
    seen.insert(n.op);
    if (n.op == OpKind::Dense || n.op == OpKind::FusedMatMul ||
        n.op == OpKind::DenseGradInput || n.op == OpKind::DenseGradWeight) {
      EXPECT_EQ(k.launch, CudaLaunchKind::Gemm) << k.name;
    }
    if (n.op == OpKind::DenseGradBias) {
      EXPECT_EQ(k.launch, CudaLaunchKind::Columns) << k.name;
    }
    if (n.op == OpKind::Dense && n.act == Activation::Relu) {
      // The activation is in the GEMM's epilogue: relu as a select on the
      // biased sum, stored once.
      size_t at = src.code.find(k.name + "(");
      std::string body = src.code.substr(at, src.code.find("\n}\n", at) - at);
      EXPECT_NE(body.find("auto ep = "), std::string::npos);
      EXPECT_NE(body.find("(0.0f > t0) ? 0.0f : t0"), std::string::npos)
          << body;
      EXPECT_NE(body.find("nn_gemm64<true, true>"), std::string::npos);
    }
  }
  for (OpKind op :
       {OpKind::Dense, OpKind::FusedMatMul, OpKind::DenseGradInput,
        OpKind::DenseGradWeight, OpKind::DenseGradBias, OpKind::SoftmaxXentGrad,
        OpKind::SgdMomentum, OpKind::Sgd, OpKind::Elementwise})
    EXPECT_TRUE(seen.count(op)) << mnemonic(op);
  Model churn = loadExample("churn.nn", Stage::Fused);
  bool bceGrad = false;
  for (const Node &n : churn.graph.nodes)
    bceGrad |= n.op == OpKind::SigmoidBceGrad;
  EXPECT_TRUE(bceGrad);
  EXPECT_NE(printCuda(churn.graph).code.find("fused_sigmoid_bce_grad("),
            std::string::npos);
}

TEST(CudaPrinter, EveryVariantPrints) {
  // Every op the pipeline produces for the examples, fused or not, has a
  // kernel (the printer's switch is complete; this checks that nothing
  // reachable asserts), and printing is deterministic.
  for (Variant &v : allVariants()) {
    ASSERT_GT(v.model.graph.size(), 0) << v.what;
    CudaSource a = printCuda(v.model.graph);
    CudaSource b = printCuda(v.model.graph);
    EXPECT_EQ(a.code, b.code) << v.what;
    EXPECT_FALSE(a.kernels.empty()) << v.what;
  }
}

TEST(CudaPrinter, Tf32PutsEveryProductOnTensorCoresAndNothingElse) {
  for (const char *f : {"mnist_mlp.nn", "churn.nn"})
    for (Stage stage : {Stage::Opt, Stage::Fused}) {
      Model m = loadExample(f, stage);
      CudaPrintOptions tf32;
      tf32.tf32 = true;
      CudaSource a = printCuda(m.graph), b = printCuda(m.graph, tf32);
      // The fp32 source has no tensor-core code at all.
      EXPECT_EQ(a.code.find("mma.sync"), std::string::npos) << f;
      EXPECT_EQ(a.code.find("_tf32<"), std::string::npos) << f;
      EXPECT_NE(b.code.find("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32"
                            ".f32"),
                std::string::npos)
          << f;
      ASSERT_EQ(a.kernels.size(), b.kernels.size()) << f;
      int gemms = 0;
      for (size_t i = 0; i < a.kernels.size(); ++i) {
        // Kernel bodies: the same text but the GEMM's name.
        auto body = [](const CudaSource &s, const CudaKernel &k) {
          std::string text;
          size_t pos = 0;
          for (int line = 1; line < k.firstLine; ++line)
            pos = s.code.find('\n', pos) + 1;
          for (int line = k.firstLine; line <= k.lastLine; ++line) {
            size_t end = s.code.find('\n', pos);
            text += s.code.substr(pos, end - pos + 1);
            pos = end + 1;
          }
          return text;
        };
        std::string ka = body(a, a.kernels[i]), kb = body(b, b.kernels[i]);
        bool gemm = a.kernels[i].launch == CudaLaunchKind::Gemm;
        gemms += gemm;
        EXPECT_EQ(ka.find("nn_gemm64<") != std::string::npos, gemm) << ka;
        EXPECT_EQ(kb.find("nn_gemm64_tf32<") != std::string::npos, gemm)
            << kb;
        EXPECT_EQ(std::regex_replace(kb, std::regex("(nn_gemm(64|128))_tf32<"),
                                     "$1<"),
                  ka);
      }
      EXPECT_GE(gemms, 2) << f; // churn: forward and weight gradient
    }
}

} // namespace
