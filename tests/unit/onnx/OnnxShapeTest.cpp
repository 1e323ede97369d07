//===- OnnxShapeTest.cpp - Exports checked by ONNX's own C++ checker ------===//
///
/// \file
/// A hand-built graph of the ops that no example's prediction uses (reshape
/// to 3-D, sum, mean and count over an axis and over everything, expand,
/// onehot, transpose of a dense weight, a grouped and dilated conv, average
/// pooling, lone channel_affine, batch_normalize and normalize, channel
/// means and sums, step, abs, sqrt, log, erf, neg) and the examples go
/// through exportOnnx; libonnx's checker must accept each model, and its
/// shape inference (strict, with data propagation) must give every named
/// nnc value the shape nnc's shape rules gave it, N kept symbolic (a dim
/// ONNX cannot infer, OneHot's depth, may stay unknown).
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"
#include "passes/Builder.h"
#include "passes/Pipeline.h"
#include "runtime/ParamInit.h"
#include "tools/onnx/OnnxExport.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace nn;

namespace {

NodeId leaf(Graph &g, OpKind k, const std::string &name,
            std::vector<int64_t> dims, DType t = DType::F32) {
  Node n = makeNode(k, {});
  n.name = name;
  n.type = TensorType::of(std::move(dims), t);
  if (k == OpKind::Label) {
    n.labelKind = LabelKind::Class;
    n.classes = 3;
  }
  return g.add(n);
}

NodeId spatial(Builder &b, OpKind k, std::vector<NodeId> in, Window w,
               const std::string &name) {
  Node n = makeNode(k, std::move(in));
  n.win = w;
  n.name = name;
  n.param = 1e-5;
  return b.typed(n);
}

/// Every op that no example's "pred" reaches, summed into one scalar.
Graph everyOtherOp() {
  Graph g;
  g.name = "ops";
  Builder b(g);
  NodeId x = leaf(g, OpKind::Input, "x", {kBatch, 2, 6, 6});
  NodeId y = leaf(g, OpKind::Label, "y", {kBatch}, DType::I32);
  NodeId cw = leaf(g, OpKind::Param, "cw", {4, 1, 3, 3});
  NodeId s = leaf(g, OpKind::Param, "s", {4});
  NodeId t = leaf(g, OpKind::Param, "t", {4});
  NodeId w = leaf(g, OpKind::Param, "w", {4, 5});
  g[w].storedTransposed = true;
  Window cwin;
  cwin.kernel[0] = cwin.kernel[1] = 3;
  cwin.padding[0] = cwin.padding[1] = 2;
  cwin.dilation[0] = cwin.dilation[1] = 2;
  cwin.groups = 2;
  NodeId conv = spatial(b, OpKind::Conv2d, {x, cw}, cwin, "conv");
  Window pwin;
  pwin.kernel[0] = pwin.kernel[1] = pwin.stride[0] = pwin.stride[1] = 2;
  NodeId ap = spatial(b, OpKind::AvgPool2d, {conv}, pwin, "ap");
  NodeId aff = spatial(b, OpKind::ChannelAffine, {ap, s, t}, {}, "aff");
  NodeId bn = spatial(b, OpKind::BatchNormalize, {aff, s, t}, {}, "bn");
  NodeId cm = spatial(b, OpKind::ChannelMean, {bn}, {}, "cm");
  NodeId cs = spatial(b, OpKind::ChannelSum, {bn}, {}, "cs");
  NodeId r = b.reshape(bn, {kBatch, 9, 4}, "r");
  NodeId flat = b.reshape(bn, {kBatch, 36}, "flat");
  NodeId nz = b.unary(OpKind::Normalize, flat, "nz");
  g[nz].param = 1e-5;
  NodeId step = b.unary(OpKind::Step, nz, "step");
  NodeId sq = b.unary(OpKind::Sqrt, b.unary(OpKind::Abs, nz, "abs"), "sq");
  NodeId lg = b.unary(OpKind::Log, b.binary(OpKind::Add, sq, b.constant(1)),
                      "lg");
  NodeId er = b.unary(OpKind::Neg, b.unary(OpKind::Erf, lg, "erf"), "neg");
  NodeId sum = b.op(OpKind::Sum, {r}, "sum", 2);
  NodeId mean = b.op(OpKind::Mean, {sum}, "mean", 1);
  NodeId cnt = b.op(OpKind::Count, {r}, "cnt", 1);
  NodeId cntAll = b.op(OpKind::Count, {r}, "cnt_all", -1);
  NodeId oh = b.oneHot(y, 3, "oh");
  NodeId ex = b.binary(OpKind::Expand, b.constant(2), oh, "ex");
  NodeId tr = b.unary(OpKind::Transpose, w, "tr");
  NodeId total = b.op(OpKind::Mean, {mean}, "", -1);
  for (NodeId v : {cm, cs, step, er, cnt, cntAll, oh, ex, tr})
    total = b.binary(OpKind::Add, total, b.op(OpKind::Sum, {v}, "", -1));
  g.outputs.push_back({"pred", total});
  return g;
}

onnx::ModelProto exported(const Graph &g) {
  DiagEngine d;
  OnnxExportResult r = exportOnnx(g, initState(g, 1), {"m.nn", "", ""}, d);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(r.bytes));
  return m;
}

/// Runs libonnx's checker and strict shape inference on `m`, then compares
/// the inferred shape of every named non-leaf node of `g` with its type.
void expectShapesAgree(const Graph &g, onnx::ModelProto m) {
  try {
    onnx::checker::check_model(m);
    onnx::ShapeInferenceOptions opts(true, 1, true);
    onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(),
                                       opts);
  } catch (const std::exception &e) {
    FAIL() << g.name << ": " << e.what();
  }
  std::map<std::string, const onnx::ValueInfoProto *> inferred;
  for (const auto &vi : m.graph().value_info())
    inferred[vi.name()] = &vi;
  for (const auto &vi : m.graph().output())
    inferred[vi.name()] = &vi;
  std::vector<std::pair<std::string, const Node *>> values;
  for (const Node &n : g.nodes)
    if (!n.name.empty() && !hasTrait(n.op, kLeaf) && inferred.count(n.name))
      values.push_back({n.name, &n});
  values.push_back({"pred", &g[*g.output("pred")]});
  int compared = 0;
  for (auto [name, node] : values) {
    const Node &n = *node;
    const auto &shape = inferred[name]->type().tensor_type().shape();
    ASSERT_EQ(shape.dim_size(), n.type.rank()) << g.name << ": " << name;
    for (int i = 0; i < shape.dim_size(); ++i) {
      const auto &d = shape.dim(i);
      if (n.type.dims[i] == kBatch)
        EXPECT_EQ(d.dim_param(), "N") << g.name << ": " << name << " " << i;
      else if (d.has_dim_value()) // unknown where ONNX cannot tell (OneHot)
        EXPECT_EQ(d.dim_value(), n.type.dims[i])
            << g.name << ": " << name << " " << i;
      else // a fresh symbol of ONNX's inference, never the batch "N"
        EXPECT_EQ(d.dim_param().rfind("unk__", 0), 0u)
            << g.name << ": " << name << " " << i << " " << d.dim_param();
    }
    ++compared;
  }
  EXPECT_GT(compared, 0) << g.name;
}

} // namespace

TEST(OnnxShapes, EveryOtherOpPassesTheCheckerWithNncShapes) {
  Graph g = everyOtherOp();
  onnx::ModelProto m = exported(g);
  std::vector<std::string> ops;
  for (const auto &n : m.graph().node())
    ops.push_back(n.op_type());
  for (const char *op : {"Conv", "AveragePool", "Unsqueeze", "BatchNormalization",
                         "ReduceMean", "ReduceSum", "Reshape", "Flatten",
                         "LayerNormalization", "Greater", "Cast", "Sqrt", "Log",
                         "Erf", "Neg", "Expand", "Shape", "OneHot",
                         "Transpose"})
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  expectShapesAgree(g, m);
}

TEST(OnnxShapes, EveryExamplePassesTheCheckerWithNncShapes) {
  int models = 0;
  for (const auto &e :
       std::filesystem::directory_iterator(NNC_SOURCE_DIR "/examples")) {
    if (e.path().extension() != ".nn")
      continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    DiagEngine d;
    std::optional<Model> model = parseModel(e.path(), text.str(), d);
    ASSERT_TRUE(model) << d.str();
    Graph g = runPipeline(model->graph, model->recipe, Stage::Forward, {}, d);
    expectShapesAgree(g, exported(g));
    ++models;
  }
  EXPECT_GE(models, 5);
}
