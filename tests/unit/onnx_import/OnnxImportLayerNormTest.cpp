//===- OnnxImportLayerNormTest.cpp - LayerNormalization to layer_norm -----===//
///
/// \file
/// nnc import of ONNX LayerNormalization: over the last axis with a scale
/// (and a bias, or none) it becomes `layer_norm`, its weights named and
/// shaped as nn.LayerNorm's state_dict, and the text lowers to normalize
/// (with the file's epsilon) times the weight plus the bias; another axis,
/// a missing or computed scale, a bias of the wrong size and a read Mean
/// output are each listed as a problem with their reason.
///
//===----------------------------------------------------------------------===//

#include "OnnxBuilder.h"

#include "frontend/Frontend.h"
#include "ir/Support.h"
#include "tools/onnx/OnnxImport.h"

#include <gtest/gtest.h>

#include <sstream>

using nn::testing::OnnxBuilder;

namespace nn {
namespace {

OnnxImport importOf(const OnnxBuilder &b) {
  return importOnnx("m.onnx", b.bytes(), "m", "m.safetensors");
}

std::string errorOf(const OnnxBuilder &b) {
  try {
    importOf(b);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// x [N,4] -> LayerNormalization(ln.weight, ln.bias) -> Gemm -> Softmax,
/// as torch.onnx.export writes nn.LayerNorm(4) at opset 17.
OnnxBuilder lnModel(std::vector<int64_t> inputDims = {-1, 4}) {
  OnnxBuilder b(std::move(inputDims));
  b.init("ln.weight", {4}, {0.5f, 1, 1.5f, 2});
  b.init("ln.bias", {4}, {-0.1f, 0, 0.1f, 0.2f});
  auto *n = b.node("LayerNormalization", {"x", "ln.weight", "ln.bias"},
                   {"/ln/LayerNormalization_output_0"}, "/ln/LN");
  OnnxBuilder::attr(n, "axis", -1);
  OnnxBuilder::attrF(n, "epsilon", 1e-6f);
  b.ramp("fc.weight", {3, 4});
  b.ramp("fc.bias", {3});
  OnnxBuilder::attr(b.node("Gemm",
                           {"/ln/LayerNormalization_output_0", "fc.weight",
                            "fc.bias"},
                           {"z"}),
                    "transB", 1);
  b.node("Softmax", {"z"}, {"p"});
  b.output("p");
  return b;
}

/// Lowers `r.nn`; its params must be exactly the weights, in their shapes.
std::optional<Model> lowered(const OnnxImport &r) {
  DiagEngine diags;
  diags.addSource("m.nn", r.nn);
  std::optional<Model> model = parseModel("m.nn", r.nn, diags);
  std::ostringstream os;
  diags.print(os, false);
  EXPECT_TRUE(model && !diags.hasErrors()) << os.str() << "\n" << r.nn;
  if (!model)
    return model;
  size_t params = 0;
  for (NodeId id : model->graph.leaves(OpKind::Param)) {
    const Node &n = model->graph[id];
    ++params;
    EXPECT_TRUE(r.weights.count(n.name)) << n.name << "\n" << r.nn;
    if (r.weights.count(n.name) && !n.storedTransposed) {
      EXPECT_EQ(r.weights.at(n.name).shape, n.type.dims) << n.name;
    }
  }
  EXPECT_EQ(params, r.weights.size()) << r.nn;
  return model;
}

TEST(OnnxImportLayerNorm, BecomesLayerNormWithItsEps) {
  OnnxImport r = importOf(lnModel());
  EXPECT_TRUE(contains(r.nn, "# node '/ln/LN' (LayerNormalization): "
                             "ln.weight, ln.bias\n"
                             "ln = layer_norm(x, eps = 1e-06)\n"))
      << r.nn;
  EXPECT_TRUE(contains(r.nn, "fc = dense(ln, 3)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "loss cross_entropy(softmax(fc), y)\n")) << r.nn;
}

TEST(OnnxImportLayerNorm, WeightsInNnLayerNormLayout) {
  OnnxBuilder b = lnModel();
  // A scale [1, 4] (leading 1-dims) is stored as nn.LayerNorm's [4].
  b.g->mutable_initializer(0)->clear_dims();
  b.g->mutable_initializer(0)->add_dims(1);
  b.g->mutable_initializer(0)->add_dims(4);
  OnnxImport r = importOf(b);
  const Tensor &w = r.weights.at("ln.weight");
  const Tensor &bias = r.weights.at("ln.bias");
  EXPECT_EQ(w.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(w.data, (std::vector<float>{0.5f, 1, 1.5f, 2}));
  EXPECT_EQ(bias.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(bias.data, (std::vector<float>{-0.1f, 0, 0.1f, 0.2f}));
  EXPECT_EQ(r.origins.at("ln.weight"), "ln.weight");
  EXPECT_EQ(r.origins.at("ln.bias"), "ln.bias");
}

TEST(OnnxImportLayerNorm, LowersToNormalizeTimesWeightPlusBias) {
  OnnxImport r = importOf(lnModel());
  std::optional<Model> model = lowered(r);
  ASSERT_TRUE(model);
  const Graph &g = model->graph;
  std::vector<NodeId> norms;
  for (NodeId id = 0; id < g.size(); ++id)
    if (g[id].op == OpKind::Normalize)
      norms.push_back(id);
  ASSERT_EQ(norms.size(), 1u);
  EXPECT_FLOAT_EQ(static_cast<float>(g[norms[0]].param), 1e-6f);
  EXPECT_EQ(g[norms[0]].name, "ln.normalize");
  EXPECT_EQ(g[norms[0]].type.dims, (std::vector<int64_t>{kBatch, 4}));
}

TEST(OnnxImportLayerNorm, DefaultEpsAndNoBias) {
  // An unnamed scale (as nnc export writes `normalize` alone), no B, the
  // default epsilon 1e-5 and axis 2 of a [N,2,4] value (its last).
  OnnxBuilder b({-1, 2, 4});
  b.init("onnx::LN_3", {4}, {1, 1, 1, 1});
  auto *n = b.node("LayerNormalization", {"x", "onnx::LN_3"}, {"n"});
  OnnxBuilder::attr(n, "axis", 2);
  b.node("Flatten", {"n"}, {"f"});
  b.output("f");
  OnnxImport r = importOf(b);
  EXPECT_TRUE(contains(r.nn, "ln1 = layer_norm(x)\n")) << r.nn;
  EXPECT_TRUE(contains(r.nn, "ln1.weight <- 'onnx::LN_3', ln1.bias <- zeros "
                             "(the ONNX node has no B)"))
      << r.nn;
  EXPECT_EQ(r.weights.at("ln1.bias").data, std::vector<float>(4, 0.0f));
  EXPECT_FALSE(r.origins.count("ln1.bias"));
  lowered(r);
}

TEST(OnnxImportLayerNorm, OtherAxesAreListedWithTheReason) {
  OnnxBuilder b = lnModel({-1, 2, 4});
  b.g->mutable_node(0)->mutable_attribute(0)->set_i(1);
  std::string msg = errorOf(b);
  EXPECT_EQ(msg.rfind("m.onnx: error: nnc cannot import 1 node:\n", 0), 0u)
      << msg;
  EXPECT_TRUE(contains(msg, "node '/ln/LN' (LayerNormalization): axis = 1: "
                            "nnc's layer_norm normalizes over the last axis "
                            "only (axis = -1 or 2)"))
      << msg;
  b.g->mutable_node(0)->mutable_attribute(0)->set_i(-2);
  msg = errorOf(b);
  EXPECT_TRUE(contains(msg, "axis = -2: nnc's layer_norm")) << msg;
}

TEST(OnnxImportLayerNorm, MissingOrComputedScaleIsAProblem) {
  OnnxBuilder none({-1, 4});
  none.node("LayerNormalization", {"x"}, {"n"}, "ln");
  none.output("n");
  EXPECT_TRUE(contains(errorOf(none), "node 'ln' (LayerNormalization): it has "
                                      "no scale; nnc's layer_norm has a "
                                      "weight"))
      << errorOf(none);
  OnnxBuilder computed({-1, 4});
  computed.node("Relu", {"x"}, {"r"});
  computed.node("LayerNormalization", {"x", "r"}, {"n"}, "ln");
  computed.output("n");
  EXPECT_TRUE(contains(errorOf(computed), "node 'ln' (LayerNormalization): "
                                          "its scale must be an initializer "
                                          "of 4 values"))
      << errorOf(computed);
}

TEST(OnnxImportLayerNorm, WrongBiasAndReadStatisticsAreProblems) {
  OnnxBuilder b = lnModel();
  b.ramp("short", {3});
  b.g->mutable_node(0)->set_input(2, "short");
  EXPECT_TRUE(contains(errorOf(b), "its bias B must be an initializer of 4 "
                                   "values"))
      << errorOf(b);
  OnnxBuilder mean({-1, 4});
  mean.ramp("s", {4});
  mean.node("LayerNormalization", {"x", "s"}, {"n", "mu"}, "ln");
  mean.node("Add", {"n", "mu"}, {"o"});
  mean.output("o");
  EXPECT_TRUE(contains(errorOf(mean), "its Mean or InvStdDev output is read"))
      << errorOf(mean);
}

} // namespace
} // namespace nn
