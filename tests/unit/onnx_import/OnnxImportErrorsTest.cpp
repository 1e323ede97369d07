//===- OnnxImportErrorsTest.cpp - Hostile and unsupported ONNX files -----===//
///
/// \file
/// Every error of nnc import has its message checked here: bytes that are
/// not a model, truncated files, huge dimensions, data sizes that do not
/// match, external data (escaping the folder or not), cycles, undefined
/// values, a missing initializer, wrong opsets and domains, unsupported ops
/// (all listed at once) and nodes whose attributes nnc cannot say.
///
//===----------------------------------------------------------------------===//

#include "OnnxBuilder.h"

#include "ir/Support.h"
#include "tools/onnx/OnnxImport.h"

#include <gtest/gtest.h>

using nn::testing::OnnxBuilder;

namespace nn {
namespace {

/// The UserError message of importing `bytes` ("" when it succeeds).
std::string errorOf(const std::string &bytes) {
  try {
    importOnnx("m.onnx", bytes, "m", "m.safetensors");
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

std::string errorOf(const OnnxBuilder &b) { return errorOf(b.bytes()); }

#define EXPECT_ERROR(b, text)                                                  \
  do {                                                                         \
    std::string msg_ = errorOf(b);                                             \
    EXPECT_NE(msg_.find(text), std::string::npos) << msg_;                     \
    EXPECT_EQ(msg_.rfind("m.onnx: error: ", 0), 0u) << msg_;                   \
  } while (0)

/// x [N,2] -> Gemm(W [3,2], transB) -> Relu -> "y".
OnnxBuilder small() {
  OnnxBuilder b({-1, 2});
  b.ramp("W", {3, 2});
  OnnxBuilder::attr(b.node("Gemm", {"x", "W"}, {"g"}, "gemm"), "transB", 1);
  b.node("Relu", {"g"}, {"out"}, "relu");
  b.output("out");
  return b;
}

TEST(OnnxImportErrors, SmallModelImports) { EXPECT_EQ(errorOf(small()), ""); }

TEST(OnnxImportErrors, TruncatedAndGarbage) {
  std::string bytes = small().bytes();
  EXPECT_ERROR(bytes.substr(0, bytes.size() - 7), "truncated or malformed");
  EXPECT_ERROR(std::string("\xff\xff\xff\xff\xff", 5),
               "truncated or malformed");
  EXPECT_ERROR(std::string(), "it has no graph");
}

TEST(OnnxImportErrors, HugeDimensions) {
  OnnxBuilder b = small();
  b.ramp("big", {1});
  b.g->mutable_initializer(1)->set_dims(0, int64_t(1) << 40);
  EXPECT_ERROR(b, "initializer 'big' has dimension 1099511627776");
  OnnxBuilder c = small();
  auto *t = c.g->add_initializer();
  t->set_name("many");
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int i = 0; i < 4; ++i)
    t->add_dims(1 << 20);
  EXPECT_ERROR(c, "initializer 'many' has more than");
  OnnxBuilder d = small();
  d.g->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(int64_t(1) << 50);
  EXPECT_ERROR(d, "input 'x' has dimension 1 of 1125899906842624");
  OnnxBuilder e = small();
  e.g->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_param("K");
  EXPECT_ERROR(e, "dimension 1 of 'K'");
}

TEST(OnnxImportErrors, DataSizeMismatch) {
  OnnxBuilder b = small();
  b.g->mutable_initializer(0)->set_dims(0, 4);
  EXPECT_ERROR(b, "initializer 'W' holds 6 values, but its dimensions give 8");
  OnnxBuilder c = small();
  c.g->mutable_initializer(0)->mutable_raw_data()->resize(5);
  EXPECT_ERROR(c, "initializer 'W' holds 1 values");
}

TEST(OnnxImportErrors, ExternalData) {
  for (std::string where : {"../../etc/passwd", "/etc/passwd", "w.bin"}) {
    OnnxBuilder b = small();
    auto *t = b.g->mutable_initializer(0);
    t->clear_raw_data();
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto *kv = t->add_external_data();
    kv->set_key("location");
    kv->set_value(where);
    std::string msg = errorOf(b);
    EXPECT_NE(msg.find("keeps its data in an external file '" + where + "'"),
              std::string::npos)
        << msg;
    bool escapes = where != "w.bin";
    EXPECT_EQ(msg.find("outside the model's folder") != std::string::npos,
              escapes)
        << msg;
  }
}

TEST(OnnxImportErrors, GraphStructure) {
  OnnxBuilder cyc({-1, 2});
  cyc.node("Relu", {"b"}, {"a"}, "ra");
  cyc.node("Relu", {"a"}, {"b"}, "rb");
  cyc.output("b");
  EXPECT_ERROR(cyc, "the graph has a cycle through node 'r");
  OnnxBuilder undef = small();
  undef.node("Relu", {"nowhere"}, {"z"}, "lost");
  EXPECT_ERROR(undef, "node 'lost' (Relu) reads 'nowhere', which no node");
  OnnxBuilder missing({-1, 2});
  OnnxBuilder::attr(missing.node("Gemm", {"x", "fc.weight"}, {"g"}, "gemm"),
                    "transB", 1);
  missing.output("g");
  EXPECT_ERROR(missing, "node 'gemm' (Gemm) reads 'fc.weight'");
  OnnxBuilder twice = small();
  twice.node("Relu", {"x"}, {"g"}, "again");
  EXPECT_ERROR(twice, "'g' is defined twice");
  OnnxBuilder noOut = small();
  noOut.g->mutable_output(0)->set_name("ghost");
  EXPECT_ERROR(noOut, "the graph output 'ghost' is not defined");
  OnnxBuilder arity({-1, 2});
  arity.node("MatMul", {"x"}, {"m"}, "mm");
  arity.output("m");
  EXPECT_ERROR(arity, "node 'mm' (MatMul) has 1 inputs and 1 outputs; MatMul "
                      "takes 2 to 2 inputs");
  OnnxBuilder two = small();
  two.output("g");
  EXPECT_ERROR(two, "the graph has 2 outputs");
}

TEST(OnnxImportErrors, OpsetsAndDomains) {
  EXPECT_ERROR(OnnxBuilder({-1, 2}, 9), "opset 9 is not supported");
  EXPECT_ERROR(OnnxBuilder({-1, 2}, 19), "opset 19 is not supported");
  OnnxBuilder none = small();
  none.model.mutable_opset_import(0)->set_domain("com.example");
  EXPECT_ERROR(none, "does not import the standard ONNX operator set");
  OnnxBuilder b = small();
  b.g->mutable_node(1)->set_domain("com.microsoft");
  EXPECT_ERROR(b, "node 'relu' (com.microsoft.Relu)");
}

TEST(OnnxImportErrors, UnsupportedOpsAreListedTogether) {
  OnnxBuilder b = small();
  b.node("LSTM", {"out"}, {"l"}, "lstm1");
  b.node("Einsum", {"l"}, {"e"}, "");
  std::string msg = errorOf(b);
  EXPECT_NE(msg.find("the graph uses 2 ops nnc does not import:\n"
                     "  node 'lstm1' (LSTM)\n  node 'Einsum4' (Einsum)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("note: nnc imports Abs, Add"), std::string::npos) << msg;
}

TEST(OnnxImportErrors, UnsupportedAttributesAreListedTogether) {
  OnnxBuilder b({-1, 1, 6, 6});
  b.ramp("k", {2, 1, 3, 3});
  OnnxBuilder::attrs(b.node("Conv", {"x", "k"}, {"c"}, "conv"), "pads",
                     {0, 0, 1, 1});
  auto *p = b.node("MaxPool", {"x"}, {"p"}, "pool");
  OnnxBuilder::attrs(p, "kernel_shape", {2, 2});
  OnnxBuilder::attr(p, "ceil_mode", 1);
  b.node("Add", {"c", "p"}, {"s"}, "sum"); // skipped: its inputs failed
  b.output("s");
  std::string msg = errorOf(b);
  EXPECT_NE(msg.find("nnc cannot import 2 nodes:\n  node 'conv' (Conv): nnc "
                     "imports the same padding on both sides"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("node 'pool' (MaxPool): nnc pools without ceil_mode"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find("'sum'"), std::string::npos) << msg;
}

TEST(OnnxImportErrors, ShapesThatDoNotFit) {
  OnnxBuilder b({-1, 3});
  b.ramp("W", {4, 2});
  OnnxBuilder::attr(b.node("Gemm", {"x", "W"}, {"g"}, "gemm"), "transB", 1);
  b.output("g");
  EXPECT_ERROR(b, "node 'gemm' (Gemm): the weight [4, 2] does not take 3 "
                  "inputs");
  OnnxBuilder t({-1, 2});
  OnnxBuilder::attr(
      t.node("BatchNormalization", {"x", "a", "b", "c", "d"}, {"n"}, "bn"),
      "training_mode", 1);
  for (const char *n : {"a", "b", "c", "d"})
    t.ramp(n, {2});
  t.output("n");
  EXPECT_ERROR(t, "training_mode = 1");
  OnnxBuilder two({-1, 2});
  auto *in = two.g->add_input();
  *in = two.g->input(0);
  in->set_name("x2");
  two.node("Add", {"x", "x2"}, {"s"});
  two.output("s");
  EXPECT_ERROR(two, "the graph has 2 inputs besides its initializers");
  OnnxBuilder i8 = small();
  i8.g->mutable_initializer(0)->set_data_type(onnx::TensorProto::INT8);
  EXPECT_ERROR(i8, "initializer 'W' has ONNX data type 3");
}

} // namespace
} // namespace nn
