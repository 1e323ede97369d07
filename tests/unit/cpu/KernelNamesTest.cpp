//===- KernelNamesTest.cpp - Stable kernel names --------------------------===//
///
/// \file
/// ir/KernelNames.h: a kernel is named after its node's `.nn` binding and op,
/// an unnamed node after its output, first named user or operand, duplicates get
/// "_2", names a backend makes itself are avoided; and adding a node does
/// not rename the kernels of the others (node ids are not in the names).
/// The CPU module and the CUDA source use exactly these names.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaPrinter.h"
#include "ir/IRParser.h"
#include "ir/KernelNames.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

#include <map>

using namespace nn;

namespace {

Graph parseIr(const std::string &text) {
  DiagEngine diags;
  diags.addSource("t.nnir", text);
  Graph g = inferShapes(parseGraph("t.nnir", text, diags), diags);
  EXPECT_FALSE(diags.hasErrors()) << diags.str();
  return g;
}

/// Kernel names by node label (the node's name, or "%<id>").
std::map<std::string, std::string> byLabel(const Graph &g) {
  std::vector<std::string> names = kernelNames(g);
  std::map<std::string, std::string> r;
  for (NodeId id = 0; id < g.size(); ++id)
    r[g[id].name.empty() ? "%" + std::to_string(id) : g[id].name] =
        names[static_cast<size_t>(id)];
  return r;
}

const char *kLayer = R"(graph layer {
  %x = input "x" : f32[N,4]
  %fc1.weight = param "fc1.weight" : f32[4,3]
  %fc1.bias = param "fc1.bias" : f32[3]
  %fc1 = fused.dense %x, %fc1.weight, %fc1.bias {act = relu} : f32[N,3]
  %4 = relu %fc1 : f32[N,3]
  %5 = relu %fc1 : f32[N,3]
  %6 = exp %4 : f32[N,3]
  %7 = mul %6, %5 : f32[N,3]
  %loss = mean %7 : f32
  output loss = %loss
}
)";

TEST(KernelNames, BindingAndMnemonic) {
  auto n = byLabel(parseIr(kLayer));
  EXPECT_EQ(n["fc1"], "fc1_fused_dense");
  EXPECT_EQ(n["fc1.weight"], "fc1_weight_param");
  EXPECT_EQ(n["loss"], "loss_mean");
}

TEST(KernelNames, ABindingEndingInTheMnemonicIsNotRepeated) {
  auto n = byLabel(parseIr(R"(graph g {
  %x = input "x" : f32[N,2]
  %fc1.neg = neg %x : f32[N,2]
  %exp = exp %fc1.neg : f32[N,2]
  %3 = neg %fc1.neg : f32[N,2]
  %b.neg = add %3, %3 : f32[N,2]
  output a = %exp
  output b = %b.neg
}
)"));
  EXPECT_EQ(n["fc1.neg"], "fc1_neg");
  EXPECT_EQ(n["exp"], "exp_exp"); // not libm's exp
  EXPECT_EQ(n["%3"], "b_neg");    // its user's name ends in _neg already
  EXPECT_EQ(n["b.neg"], "b_neg_add");
}

TEST(KernelNames, UnnamedTakeTheirUsersNameAndDuplicatesCount) {
  auto n = byLabel(parseIr(kLayer));
  EXPECT_EQ(n["%7"], "loss_mul");
  EXPECT_EQ(n["%6"], "loss_exp");   // through %7
  EXPECT_EQ(n["%4"], "loss_relu");  // through %6 and %7
  EXPECT_EQ(n["%5"], "loss_relu_2");
}

TEST(KernelNames, ANodeNamedInTheSourceKeepsItsNameFromItsPieces) {
  auto n = byLabel(parseIr(R"(graph g {
  %x = input "x" : f32[N,2]
  %1 = mul %x, %x : f32[N,2]
  %l2 = mul %1, %x : f32[N,2]
  output l2 = %l2
}
)"));
  EXPECT_EQ(n["l2"], "l2_mul");
  EXPECT_EQ(n["%1"], "l2_mul_2");
}

TEST(KernelNames, OutputFirstUserOperandThenK) {
  auto n = byLabel(parseIr(R"(graph g {
  %x = input "x" : f32[N,2]
  %1 = const 3 : f32
  %2 = add %1, %1 : f32
  %total = mul %2, %2 : f32
  %4 = neg %2 : f32
  %5 = exp %x : f32[N,2]
  %6 = const 2 : f32
  %7 = neg %6 : f32
  %8 = neg %7 : f32
  output total = %total
  output other = %4
  output y = %5
  output z = %8
}
)"));
  EXPECT_EQ(n["%2"], "total_add"); // the first of its users
  EXPECT_EQ(n["%1"], "total_const");
  EXPECT_EQ(n["%4"], "other_neg"); // an output
  EXPECT_EQ(n["%8"], "z_neg");   // the output claims it first
  EXPECT_EQ(n["%7"], "z_neg_2");
  EXPECT_EQ(n["%6"], "z_const");
}

TEST(KernelNames, OperandWhenNoUserOrOutputIsNamedElseK) {
  auto n = byLabel(parseIr(R"(graph g {
  %x = input "x" : f32[N,2]
  %w = param "w" : f32[2]
  %2 = const 0.5 : f32
  %3 = mul %2, %w : f32[2]
  %4 = sub %w, %3 : f32[2]
  %loss = mean %x : f32
  output loss = %loss
  update %w <- %4
}
)"));
  EXPECT_EQ(n["%4"], "w_sub"); // an update value: no user, no output
  EXPECT_EQ(n["%3"], "w_mul"); // its user has no name of its own
  EXPECT_EQ(n["%2"], "k_const");
  EXPECT_EQ(n["x"], "x_input");
}

TEST(KernelNames, NamesTheBackendsMakeAreAvoided) {
  auto n = byLabel(parseIr(R"(graph g {
  %x = input "x" : f32[N,2]
  %task = neg %x : f32[N,2]
  %g = step %x : f32[N,2]
  %nn = exp %x : f32[N,2]
  %x_neg_2 = neg %x : f32[N,2]
  %y = neg %x : f32[N,2]
  %z = neg %y : f32[N,2]
  %w = neg %x : f32[N,2]
  output a = %task
  output b = %g
  output c = %nn
  output d = %x_neg_2
  output e = %z
  output f = %w
}
)"));
  EXPECT_EQ(n["task"], "k_task_neg");
  EXPECT_EQ(n["g"], "k_g_step"); // the entry point is g_step
  EXPECT_EQ(n["nn"], "k_nn_exp");
  EXPECT_EQ(n["x_neg_2"], "x_neg_2_neg");
  EXPECT_EQ(n["w"], "w_neg");
}

TEST(KernelNames, AddingANodeRenamesNoOtherKernel) {
  std::string text = kLayer, more = kLayer;
  more.insert(more.find("  %fc1 = fused.dense"),
              "  %extra = tanh %x : f32[N,4]\n");
  Graph a = parseIr(text), b = parseIr(more);
  ASSERT_EQ(b.size(), a.size() + 1);
  for (NodeId id = 0; id < a.size(); ++id) {
    NodeId moved = id + (id >= 3 ? 1 : 0);
    ASSERT_EQ(b[moved].op, a[id].op);
    EXPECT_EQ(cudaKernelName(b, moved), cudaKernelName(a, id))
        << "node %" << id;
  }
  EXPECT_EQ(cudaKernelName(b, 3), "extra_tanh");
}

TEST(KernelNames, CudaKernelsAreNamedSo) {
  Graph g = parseIr(kLayer);
  CudaSource src = printCuda(g, {});
  std::vector<std::string> names = kernelNames(g);
  ASSERT_FALSE(src.kernels.empty());
  for (const CudaKernel &k : src.kernels) {
    EXPECT_NE(src.code.find("\n" + k.name + "("), std::string::npos)
        << k.name;
    if (!k.members.empty()) { // several nodes: its last one's name + more
      EXPECT_EQ(k.name.rfind(names[static_cast<size_t>(k.node)] + "_", 0), 0u)
          << k.name;
      continue;
    }
    EXPECT_EQ(k.name, names[static_cast<size_t>(k.node)]);
    EXPECT_EQ(k.name, cudaKernelName(g, k.node));
  }
}

} // namespace
