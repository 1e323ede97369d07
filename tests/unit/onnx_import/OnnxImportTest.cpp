//===- OnnxImportTest.cpp - nnc import on ONNX models built in C++ -------===//
///
/// \file
/// Each pattern the importer knows (dense from Gemm and MatMul+Add with an
/// activation, conv2d, batch_norm, pooling, flatten/reshape, plain
/// expressions, the output's loss) on a small ModelProto: the `.nn` text it
/// writes, the weights and their layout, and that the text parses and
/// lowers with parameters of exactly the weights' shapes.
///
//===----------------------------------------------------------------------===//

#include "OnnxBuilder.h"

#include "frontend/Frontend.h"
#include "runtime/WeightsFile.h"
#include "tools/onnx/OnnxImport.h"

#include <gtest/gtest.h>

#include <sstream>

using nn::testing::OnnxBuilder;

namespace nn {
namespace {

OnnxImport importOf(const OnnxBuilder &b) {
  return importOnnx("m.onnx", b.bytes(), "m", "m.safetensors");
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// The text lowers, and its params are the weights (in file layout).
void expectLowers(const OnnxImport &r) {
  DiagEngine diags;
  diags.addSource("m.nn", r.nn);
  std::optional<Model> model = parseModel("m.nn", r.nn, diags);
  std::ostringstream os;
  diags.print(os, false);
  ASSERT_TRUE(model && !diags.hasErrors()) << os.str() << "\n" << r.nn;
  size_t params = 0;
  for (NodeId id : model->graph.leaves(OpKind::Param)) {
    const Node &n = model->graph[id];
    ++params;
    std::vector<int64_t> s = n.type.dims;
    if (n.storedTransposed && s.size() == 2)
      std::swap(s[0], s[1]);
    ASSERT_TRUE(r.weights.count(n.name)) << n.name << "\n" << r.nn;
    EXPECT_EQ(r.weights.at(n.name).shape, s) << n.name;
  }
  EXPECT_EQ(params, r.weights.size()) << r.nn;
}

/// The lecture's MLP shape, small: Gemm+Relu, Gemm+Relu, Gemm, Softmax.
OnnxBuilder mlp() {
  OnnxBuilder b({-1, 4});
  b.ramp("fc1.weight", {3, 4});
  b.ramp("fc1.bias", {3});
  b.ramp("fc2.weight", {5, 3});
  b.ramp("fc2.bias", {5});
  b.ramp("out.weight", {2, 5});
  b.ramp("out.bias", {2});
  OnnxBuilder::attr(b.node("Gemm", {"x", "fc1.weight", "fc1.bias"}, {"g1"}),
                    "transB", 1);
  b.node("Relu", {"g1"}, {"r1"});
  OnnxBuilder::attr(b.node("Gemm", {"r1", "fc2.weight", "fc2.bias"}, {"g2"}),
                    "transB", 1);
  b.node("Tanh", {"g2"}, {"r2"});
  OnnxBuilder::attr(b.node("Gemm", {"r2", "out.weight", "out.bias"}, {"z"}),
                    "transB", 1);
  OnnxBuilder::attr(b.node("Softmax", {"z"}, {"p"}), "axis", 1);
  b.output("p");
  return b;
}

TEST(OnnxImport, GemmLayersBecomeDense) {
  OnnxImport r = importOf(mlp());
  EXPECT_TRUE(contains(r.nn, "input x : f32[4]\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "label y : class(2)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc1 = dense(x, 3, relu)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc2 = dense(fc1, 5, tanh)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "out = dense(fc2, 2)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "loss cross_entropy(softmax(out), y)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "# node 'Gemm1' (Gemm): fc1.weight, fc1.bias\n"))
      << r.nn;
  // nn.Linear's layout, as the ONNX Gemm with transB = 1 holds it.
  EXPECT_EQ(r.weights.at("fc1.weight").shape, (std::vector<int64_t>{3, 4}));
  EXPECT_FLOAT_EQ(r.weights.at("fc1.weight").data[1], 0.2f);
  EXPECT_EQ(r.origins.at("out.bias"), "out.bias");
  expectLowers(r);
}

TEST(OnnxImport, GemmWithoutTransBAndBiasIsTransposed) {
  OnnxBuilder b({-1, 2});
  b.init("W", {2, 3}, {1, 2, 3, 4, 5, 6}); // [in, out]
  b.node("Gemm", {"x", "W"}, {"z"});
  b.output("z");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "fc1 = dense(x, 3)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "zeros (the ONNX layer has no bias)")) << r.nn;
  const Tensor &w = r.weights.at("fc1.weight");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(w.data, (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // Scores without a softmax: still a classifier, with a comment.
  EXPECT_TRUE(contains(r.nn, "outputs the scores fc1 (logits)")) << r.nn;
  expectLowers(r);
}

TEST(OnnxImport, MatMulAddActivationIsDense) {
  OnnxBuilder b({-1, 2});
  b.init("lin.weight", {2, 3}, {1, 2, 3, 4, 5, 6});
  b.init("lin.bias", {3}, {7, 8, 9});
  b.node("MatMul", {"x", "lin.weight"}, {"m"});
  b.node("Add", {"m", "lin.bias"}, {"a"});
  b.node("Sigmoid", {"a"}, {"s"});
  b.output("s");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "lin = dense(x, 3, sigmoid)\n")) << r.nn;
  EXPECT_EQ(r.weights.at("lin.weight").data,
            (std::vector<float>{1, 4, 2, 5, 3, 6}));
  expectLowers(r);
}

TEST(OnnxImport, MatMulAloneIsAPlainProduct) {
  OnnxBuilder b({-1, 2});
  b.init("w", {2}, {0.5f, -1});
  b.node("MatMul", {"x", "w"}, {"m"});
  b.init("onnx::Mul_3", {}, {2});
  b.node("Mul", {"m", "onnx::Mul_3"}, {"p"});
  b.output("p");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "param w : f32[2]")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "m = x @ w\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "p = m * 2\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "label y : real\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "loss mse(p, y)\n")) << r.nn;
  expectLowers(r);
}

/// A CNN: Conv+Relu, BatchNormalization, MaxPool, Conv (no bias, stride 2,
/// asymmetric kernel), AveragePool, Flatten, Gemm.
OnnxBuilder cnn() {
  OnnxBuilder b({-1, 1, 8, 8}, 13);
  b.ramp("c1.weight", {4, 1, 3, 3});
  b.ramp("c1.bias", {4});
  auto *c = b.node("Conv", {"x", "c1.weight", "c1.bias"}, {"c"});
  OnnxBuilder::attrs(c, "pads", {1, 1, 1, 1});
  OnnxBuilder::attrs(c, "kernel_shape", {3, 3});
  b.node("Relu", {"c"}, {"r"});
  b.ramp("bn.weight", {4});
  b.ramp("bn.bias", {4});
  b.ramp("bn.running_mean", {4});
  b.ramp("bn.running_var", {4}, 2);
  auto *n =
      b.node("BatchNormalization",
             {"r", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"},
             {"n"});
  OnnxBuilder::attrF(n, "epsilon", 1e-3f);
  OnnxBuilder::attrF(n, "momentum", 0.99f);
  auto *p = b.node("MaxPool", {"n"}, {"p"});
  OnnxBuilder::attrs(p, "kernel_shape", {2, 2});
  OnnxBuilder::attrs(p, "strides", {2, 2});
  b.ramp("onnx::Conv_9", {6, 4, 1, 2});
  auto *c2 = b.node("Conv", {"p", "onnx::Conv_9"}, {"c2"});
  OnnxBuilder::attrs(c2, "strides", {1, 2});
  auto *a = b.node("AveragePool", {"c2"}, {"a"});
  OnnxBuilder::attrs(a, "kernel_shape", {2, 1});
  OnnxBuilder::attrs(a, "strides", {1, 1});
  b.node("Flatten", {"a"}, {"f"});
  b.ramp("fc.weight", {10, 36});
  b.ramp("fc.bias", {10});
  OnnxBuilder::attr(b.node("Gemm", {"f", "fc.weight", "fc.bias"}, {"z"}),
                    "transB", 1);
  b.node("Softmax", {"z"}, {"prob"});
  b.output("prob");
  return b;
}

TEST(OnnxImport, ConvolutionalLayers) {
  OnnxImport r = importOf(cnn());
  EXPECT_TRUE(contains(r.nn, "input x : f32[1, 8, 8]\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "c1 = conv2d(x, 4, kernel = 3, padding = 1, "
                             "relu)\n"))
      << r.nn;
  EXPECT_TRUE(contains(r.nn, "bn = batch_norm(c1, eps = 0.001, momentum = "
                             "0.01)\n"))
      << r.nn;
  EXPECT_TRUE(contains(r.nn, "p = maxpool2d(bn, 2)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "conv1 = conv2d(p, 6, kernel = [1, 2], "
                             "stride = [1, 2], bias = false)\n"))
      << r.nn;
  EXPECT_TRUE(contains(r.nn, "a = avgpool2d(conv1, [2, 1], stride = 1)\n"))
      << r.nn;
  EXPECT_TRUE(contains(r.nn, "f = flatten(a)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc = dense(f, 10)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "conv1.weight <- 'onnx::Conv_9'")) << r.nn;
  EXPECT_EQ(r.weights.at("bn.running_var").data[0], 2.0f);
  EXPECT_EQ(r.weights.at("bn.num_batches_tracked").shape.size(), 0u);
  expectLowers(r);
}

TEST(OnnxImport, GlobalPoolReshapeAndPlainOps) {
  OnnxBuilder b({-1, 2, 4, 4});
  b.ramp("scale", {1, 2, 1, 1});
  b.node("Mul", {"x", "scale"}, {"/m_output_0"});
  b.init("onnx::Add_4", {1}, {-0.5f});
  b.node("Add", {"/m_output_0", "onnx::Add_4"}, {"/a_output_0"});
  b.node("Exp", {"/a_output_0"}, {"/e_output_0"});
  b.node("GlobalAveragePool", {"/e_output_0"}, {"/g_output_0"});
  b.node("Flatten", {"/g_output_0"}, {"/f_output_0"});
  b.ints("shape", {0, 2, 1});
  b.node("Reshape", {"/f_output_0", "shape"}, {"/r_output_0"});
  b.ints("flat", {-1, 2});
  b.node("Reshape", {"/r_output_0", "flat"}, {"/r2_output_0"});
  b.node("Neg", {"/r2_output_0"}, {"/n_output_0"});
  b.node("Identity", {"/n_output_0"}, {"out"});
  b.output("out");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "param scale : f32[2, 1, 1]")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "mul1 = x * scale\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "add1 = mul1 + (-0.5)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "gap1 = global_avgpool(exp1)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "reshape1 = reshape(gap1, [2, 1])\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "flat1 = flatten(reshape1)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "neg1 = -flat1\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "loss cross_entropy(softmax(neg1), y)")) << r.nn;
  expectLowers(r);
}

TEST(OnnxImport, ValueNamesThatAreNnNamesAreKept) {
  // nnc export names each value as the .nn statement that made it.
  OnnxBuilder b({-1, 1, 4, 4});
  auto *p = b.node("MaxPool", {"x"}, {"p1"});
  OnnxBuilder::attrs(p, "kernel_shape", {2, 2});
  OnnxBuilder::attrs(p, "strides", {2, 2});
  b.node("Flatten", {"p1"}, {"g"});
  b.node("Relu", {"g"}, {"relu"}); // a function's name: not kept
  b.output("relu");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "p1 = maxpool2d(x, 2)\ng = flatten(p1)\n"
                             "relu1 = relu(g)\n"))
      << r.nn;
  expectLowers(r);
}

TEST(OnnxImport, TrainBlockOfAnNncSourceIsKept) {
  OnnxBuilder b = mlp();
  auto *kv = b.model.add_metadata_props();
  kv->set_key("nnc.source");
  kv->set_value("model m\ninput x : f32[4]\ntrain {\n  optimizer adam(lr = "
                "0.002)\n  batch 8\n}\n# after\n");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "metadata 'nnc.source').\ntrain {\n  optimizer "
                             "adam(lr = 0.002)\n  batch 8\n}\n"))
      << r.nn;
  EXPECT_FALSE(contains(r.nn, "# after")) << r.nn;
  EXPECT_TRUE(contains(r.nnDefaultRecipe, "  optimizer sgd(lr = 0.01)\n"));
  expectLowers(r);
  kv->set_value("train { batch 4 }\n");
  EXPECT_TRUE(contains(importOf(b).nn, "\ntrain { batch 4 }\n"));
  kv->set_value("model m\n");
  OnnxImport none = importOf(b);
  EXPECT_EQ(none.nn, none.nnDefaultRecipe);
}

TEST(OnnxImport, FixedBatchAndCopiedInitializers) {
  // torch.onnx.export without dynamic axes: a fixed batch of 2, a Reshape
  // to [2, -1], and (opset 11) Identity nodes copying initializers.
  OnnxBuilder b({2, 2, 2});
  b.ints("shape", {2, -1});
  b.node("Reshape", {"x", "shape"}, {"/r"});
  b.ramp("fc.weight", {3, 4});
  b.node("Identity", {"fc.weight"}, {"onnx::Gemm_5"});
  OnnxBuilder::attr(b.node("Gemm", {"/r", "onnx::Gemm_5"}, {"/z"}), "transB",
                    1);
  b.output("/z");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "input x : f32[2, 2]\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "flat1 = flatten(x)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc1 = dense(flat1, 3)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc1.weight <- 'onnx::Gemm_5'")) << r.nn;
  expectLowers(r);
}

TEST(OnnxImport, SigmoidOutputAndNamedScalar) {
  // The lecture's neuron as nnc export writes it: p = sigmoid(x @ w + b).
  OnnxBuilder b({-1, 2});
  b.init("w", {2}, {0.1f, 0.5f});
  b.init("b", {}, {0.4f});
  b.node("MatMul", {"x", "w"}, {"t4"});
  b.node("Add", {"t4", "b"}, {"z"});
  b.node("Sigmoid", {"z"}, {"p"});
  b.output("p");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "param b : f32   # initializer 'b'\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "z = t4 + b\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "label y : binary\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "loss bce(sigmoid(z), y)\n")) << r.nn;
  expectLowers(r);
}

TEST(OnnxImport, NamesAreMadeValid) {
  OnnxBuilder b({-1, 2});
  b.g->mutable_input(0)->set_name("input.1");
  b.ramp("features.0.weight", {2, 2});
  b.ramp("features.0.bias", {2});
  OnnxBuilder::attr(b.node("Gemm",
                           {"input.1", "features.0.weight", "features.0.bias"},
                           {"/features/Gemm_output_0"}),
                    "transB", 1);
  b.node("Relu", {"/features/Gemm_output_0"}, {"relu"});
  b.output("relu");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "input input_1 : f32[2]\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "features_0 = dense(input_1, 2, relu)\n")) << r.nn;
  EXPECT_EQ(r.origins.at("features_0.weight"), "features.0.weight");
  expectLowers(r);
}

} // namespace
} // namespace nn
