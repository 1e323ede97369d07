//===- OnnxExportTest.cpp - nnc export: graphs to ModelProtos -------------===//
///
/// \file
/// Models from .nn text (lowered and typed as `nnc export` does) and
/// hand-built graphs go through exportOnnx; the bytes are parsed back as an
/// onnx::ModelProto and its ops, attributes, initializers (names, safetensors
/// layout, values), inputs and outputs (the symbolic batch "N") and metadata
/// are checked. The numbers themselves are checked against ONNX Runtime by
/// tests/e2e/onnx_export.sh.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "ir/Support.h"
#include "passes/Builder.h"
#include "passes/Pipeline.h"
#include "runtime/ParamInit.h"
#include "tools/onnx/OnnxExport.h"

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace nn;

namespace {

/// The typed forward graph of a .nn model (no train block needed).
Graph forwardOf(const std::string &text) {
  DiagEngine d;
  d.addSource("m.nn", text);
  std::optional<Model> m = parseModel("m.nn", text, d);
  if (!m)
    ADD_FAILURE() << d.str();
  Graph g = runPipeline(m->graph, m->recipe, Stage::Forward, {}, d);
  EXPECT_FALSE(d.hasErrors()) << d.str();
  return g;
}

onnx::ModelProto exportModel(const Graph &g, const TensorMap &params) {
  DiagEngine d;
  OnnxExportResult r = exportOnnx(g, params, {"dir/m.nn", "model m", "w"}, d);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(r.bytes));
  EXPECT_EQ(r.nodes, m.graph().node_size());
  EXPECT_EQ(r.initializers, m.graph().initializer_size());
  return m;
}

onnx::ModelProto exportText(const std::string &text) {
  Graph g = forwardOf(text);
  return exportModel(g, initState(g, 7));
}

std::vector<std::string> opTypes(const onnx::ModelProto &m) {
  std::vector<std::string> ops;
  for (const onnx::NodeProto &n : m.graph().node())
    if (n.op_type() != "Constant")
      ops.push_back(n.op_type());
  return ops;
}

const onnx::NodeProto &firstNode(const onnx::ModelProto &m,
                                 const std::string &op) {
  for (const onnx::NodeProto &n : m.graph().node())
    if (n.op_type() == op)
      return n;
  ADD_FAILURE() << "no " << op << " node";
  return m.graph().node(0);
}

const onnx::AttributeProto *attr(const onnx::NodeProto &n,
                                 const std::string &name) {
  for (const onnx::AttributeProto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

std::vector<int64_t> ints(const onnx::NodeProto &n, const std::string &name) {
  const onnx::AttributeProto *a = attr(n, name);
  if (!a)
    return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<std::string> inputsOf(const onnx::NodeProto &n) {
  return {n.input().begin(), n.input().end()};
}

const onnx::TensorProto &initializer(const onnx::ModelProto &m,
                                     const std::string &name) {
  for (const onnx::TensorProto &t : m.graph().initializer())
    if (t.name() == name)
      return t;
  ADD_FAILURE() << "no initializer " << name;
  return m.graph().initializer(0);
}

std::vector<float> floats(const onnx::TensorProto &t) {
  std::vector<float> v(t.raw_data().size() / sizeof(float));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(float));
  return v;
}

/// "N,4" for a value info's dims.
std::string dimsOf(const onnx::ValueInfoProto &vi) {
  std::string s;
  for (const auto &d : vi.type().tensor_type().shape().dim())
    s += (s.empty() ? "" : ",") +
         (d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  return s;
}

std::string metadata(const onnx::ModelProto &m, const std::string &key) {
  for (const auto &e : m.metadata_props())
    if (e.key() == key)
      return e.value();
  return "<missing>";
}

const char *kMlp = R"(model mlp
input x : f32[4]
label y : class(2)
fc1 = dense(x, 3, relu)
d1 = dropout(fc1, 0.5)
fc2 = dense(d1, 2)
loss cross_entropy(softmax(fc2), y)
)";

} // namespace

TEST(OnnxExport, MlpIsGemmsWithTransposedWeightsAndABatchDimension) {
  Graph g = forwardOf(kMlp);
  TensorMap params = initState(g, 7);
  onnx::ModelProto m = exportModel(g, params);
  EXPECT_EQ(m.ir_version(), 8);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).domain(), "");
  EXPECT_EQ(m.opset_import(0).version(), 17);
  EXPECT_EQ(m.producer_name(), "nnc");
  // Dropout is gone; each dense layer is one Gemm.
  EXPECT_EQ(opTypes(m), (std::vector<std::string>{"Gemm", "Relu", "Gemm",
                                                  "Softmax"}));
  const onnx::NodeProto &gemm = firstNode(m, "Gemm");
  EXPECT_EQ(inputsOf(gemm), (std::vector<std::string>{"x", "fc1.weight",
                                                       "fc1.bias"}));
  ASSERT_NE(attr(gemm, "transB"), nullptr);
  EXPECT_EQ(attr(gemm, "transB")->i(), 1);
  // fc1.weight as safetensors (and nn.Linear) hold it: [out, in].
  const onnx::TensorProto &w = initializer(m, "fc1.weight");
  EXPECT_EQ(std::vector<int64_t>(w.dims().begin(), w.dims().end()),
            (std::vector<int64_t>{3, 4}));
  const Tensor &gw = params.at("fc1.weight"); // graph layout [in, out]
  std::vector<float> v = floats(w);
  ASSERT_EQ(v.size(), 12u);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(v[o * 4 + i], gw[i * 3 + o]) << o << "," << i;
  EXPECT_EQ(m.graph().initializer_size(), 4); // no label, no step
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), "x");
  EXPECT_EQ(dimsOf(m.graph().input(0)), "N,4");
  ASSERT_EQ(m.graph().output_size(), 1);
  EXPECT_EQ(m.graph().output(0).name(), "pred");
  EXPECT_EQ(dimsOf(m.graph().output(0)), "N,2");
  EXPECT_EQ(m.graph().node(m.graph().node_size() - 1).output(0), "pred");
  EXPECT_EQ(metadata(m, "nnc.source"), "model m");
  EXPECT_EQ(metadata(m, "nnc.source_file"), "m.nn");
  EXPECT_EQ(metadata(m, "nnc.weights"), "w");
  EXPECT_EQ(metadata(m, "nnc.version"), nncVersion());
}

TEST(OnnxExport, ChurnNeuronIsMatMulOnAVector) {
  onnx::ModelProto m = exportText(R"(model churn
input x : f32[2]
label y : binary
param w : f32[2] = [0.1, 0.5]
param b : f32 = 0.4
loss bce(sigmoid(x @ w + b), y)
)");
  EXPECT_EQ(opTypes(m), (std::vector<std::string>{"MatMul", "Add", "Sigmoid"}));
  EXPECT_EQ(floats(initializer(m, "w")), (std::vector<float>{0.1f, 0.5f}));
  EXPECT_EQ(initializer(m, "b").dims_size(), 0); // a scalar
  EXPECT_EQ(dimsOf(m.graph().output(0)), "N");
}

TEST(OnnxExport, CnnMapsConvBatchNormPoolingAndFlatten) {
  onnx::ModelProto m = exportText(R"(model cnn
input x : f32[1, 12, 12]
label y : class(3)
c1 = conv2d(x, 4, kernel = 3, stride = 2, padding = 1, relu)
b1 = batch_norm(c1)
p1 = maxpool2d(b1, 2)
a1 = avgpool2d(p1, 2, stride = 1)
g = global_avgpool(a1)
out = dense(g, 3)
loss cross_entropy(softmax(out), y)
)");
  EXPECT_EQ(opTypes(m), (std::vector<std::string>{
                            "Conv", "Relu", "BatchNormalization", "MaxPool",
                            "AveragePool", "GlobalAveragePool", "Flatten",
                            "Gemm", "Softmax"}));
  const onnx::NodeProto &conv = firstNode(m, "Conv");
  EXPECT_EQ(inputsOf(conv), (std::vector<std::string>{"x", "c1.weight",
                                                       "c1.bias"}));
  EXPECT_EQ(ints(conv, "kernel_shape"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(ints(conv, "strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ints(conv, "pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(attr(conv, "group")->i(), 1);
  EXPECT_EQ(initializer(m, "c1.weight").dims_size(), 4);
  // batch_norm's eval form: one op on the running statistics.
  const onnx::NodeProto &bn = firstNode(m, "BatchNormalization");
  EXPECT_EQ(inputsOf(bn),
            (std::vector<std::string>{"c1", "b1.weight", "b1.bias",
                                      "b1.running_mean", "b1.running_var"}));
  EXPECT_FLOAT_EQ(attr(bn, "epsilon")->f(), 1e-5f);
  EXPECT_EQ(bn.output(0), "b1");
  const onnx::NodeProto &avg = firstNode(m, "AveragePool");
  EXPECT_EQ(attr(avg, "count_include_pad")->i(), 1);
  EXPECT_EQ(ints(avg, "strides"), (std::vector<int64_t>{1, 1}));
  for (const onnx::TensorProto &t : m.graph().initializer())
    EXPECT_NE(t.name(), "b1.num_batches_tracked"); // unread at inference
}

TEST(OnnxExport, LayerNormAndGeluInOpset17Forms) {
  onnx::ModelProto m = exportText(R"(model ln
input x : f32[6]
label y : class(2)
n0 = layer_norm(x, eps = 1e-3)
h = dense(n0, 5, gelu)
out = dense(h, 2)
loss cross_entropy(softmax(out), y)
)");
  EXPECT_EQ(opTypes(m),
            (std::vector<std::string>{"LayerNormalization", "Gemm", "Div",
                                      "Erf", "Add", "Mul", "Mul", "Gemm",
                                      "Softmax"}));
  const onnx::NodeProto &ln = firstNode(m, "LayerNormalization");
  EXPECT_EQ(inputsOf(ln),
            (std::vector<std::string>{"x", "n0.weight", "n0.bias"}));
  EXPECT_EQ(attr(ln, "axis")->i(), -1);
  EXPECT_FLOAT_EQ(attr(ln, "epsilon")->f(), 1e-3f);
}

TEST(OnnxExport, ElementwiseOpsAndTheirForms) {
  onnx::ModelProto m = exportText(R"(model ew
input x : f32[3]
label y : real[3]
param w : f32[3] = [1, 2, 3]
z = leaky_relu(x, 0.2) * silu(x) - softplus(x) / exp(x)
loss mse(z * w + softsign(x), y)
)");
  std::vector<std::string> ops = opTypes(m);
  for (const char *op : {"LeakyRelu", "Sigmoid", "Softplus", "Exp", "Softsign",
                         "Sub", "Div", "Mul", "Add"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  EXPECT_FLOAT_EQ(attr(firstNode(m, "LeakyRelu"), "alpha")->f(), 0.2f);
}

TEST(OnnxExport, UnmappableOpIsAnErrorAtItsLocation) {
  Graph g;
  g.name = "bad";
  Builder b(g);
  Node x = makeNode(OpKind::Input, {});
  x.name = "x";
  x.type = TensorType::of({kBatch, 4});
  NodeId xi = g.add(x);
  b.loc = {"bad.nn", 3, 5, 4};
  NodeId ng = b.op(OpKind::NormalizeGrad, {xi, xi}, "dn");
  Node st = makeNode(OpKind::State, {}, {"bad.nn", 2, 1, 5});
  st.name = "optimizer.lr";
  st.type = TensorType::scalar();
  NodeId si = g.add(st);
  g.outputs.push_back({"pred", b.binary(OpKind::Mul, ng, si)});
  DiagEngine d;
  d.addSource("bad.nn", "model bad\ninput x : f32[4]\nd = what(x, x)\n");
  EXPECT_THROW(exportOnnx(g, {}, {}, d), DiagnosedError);
  std::string text = d.str();
  EXPECT_NE(text.find("bad.nn:3:5: error: cannot export op 'normalize_grad' "
                      "(value 'dn') to ONNX"),
            std::string::npos)
      << text;
  // Every op without an ONNX form is reported, not only the first.
  EXPECT_NE(text.find("bad.nn:2:1: error: cannot export op 'state' (value "
                      "'optimizer.lr') to ONNX: optimizer state"),
            std::string::npos)
      << text;
  EXPECT_EQ(d.errorCount(), 2);
}

TEST(OnnxExport, ModelWithoutPredictionIsAUserError) {
  Graph g;
  g.name = "nopred";
  DiagEngine d;
  try {
    exportOnnx(g, {}, {}, d);
    FAIL() << "no error";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("no prediction"), std::string::npos);
  }
}
