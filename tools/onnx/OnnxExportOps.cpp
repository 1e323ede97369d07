//===- OnnxExportOps.cpp - Each nnc op as ONNX ops ------------------------===//
///
/// \file
/// Algorithm: one complete switch over the op families (no `default`, so a
/// new family does not compile until it is handled here), and inside each
/// over the family's own ops. Each op becomes the standard ONNX op of the
/// same meaning (docs/interop.md has the table); the forms opset 17 lacks
/// are written out: gelu as x * 0.5 * (1 + erf(x / sqrt 2)), silu as
/// x * sigmoid(x), step as cast(x > 0), expand with the Shape of its second
/// operand, count as a ReduceSum of ones. Ops that only training computes
/// (gradients, batch statistics, losses, optimizer state) and fused ops
/// (export reads the graph before fusion) are errors at their location.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxExporter.h"

#include <cmath>

namespace nn {

using namespace onnxproto;

void OnnxExporter::emitNode(NodeId id) {
  const Node &n = g[id];
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return emitLeaf(id);
  case OpFamily::Elementwise:
    return emitElementwise(id);
  case OpFamily::Linalg:
    return emitLinalg(id);
  case OpFamily::Reduce:
    return emitReduce(id);
  case OpFamily::Rows:
    return emitRows(id);
  case OpFamily::Random: // dropout is identity in the inference graph
    names[id] = val(n.inputs[0]);
    return;
  case OpFamily::Spatial:
    return emitSpatial(id);
  case OpFamily::Loss:
    return unsupported(id, "a loss is not part of the prediction");
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return unsupported(id, "a fused op (nnc export reads the graph before "
                           "fusion)");
  }
}

void OnnxExporter::emitLeaf(NodeId id) {
  const Node &n = g[id];
  switch (member<LeafOp>(n.op)) {
  case LeafOp::Input:
  case LeafOp::Label:
  case LeafOp::Param:
    return; // graph inputs and initializers (run)
  case LeafOp::State:
    return unsupported(id, "optimizer state is not part of the prediction");
  case LeafOp::Const: {
    if (n.type.hasBatch())
      return unsupported(id, "a constant with a batch dimension");
    std::vector<float> v(static_cast<size_t>(n.type.numel()));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(n.values.size() == 1 ? n.values[0]
                                                     : n.values.at(i));
    taken.erase(names[id]); // constFloat takes the name afresh
    names[id] = constFloat(names[id], n.type.dims, v);
    return;
  }
  }
}

void OnnxExporter::elementwise(OpKind op, const std::vector<std::string> &in,
                               const std::string &output, double param) {
  auto tmp = [&](const char *what) { return fresh(output + "/" + what); };
  auto scalar = [&](const char *what, float v) {
    return constFloat(output + "/" + what, {}, {v});
  };
  const char *same = nullptr; // the ONNX op of the same name and meaning
  switch (member<ElementwiseOp>(op)) {
  case ElementwiseOp::Neg: same = "Neg"; break;
  case ElementwiseOp::Exp: same = "Exp"; break;
  case ElementwiseOp::Log: same = "Log"; break;
  case ElementwiseOp::Sigmoid: same = "Sigmoid"; break;
  case ElementwiseOp::Relu: same = "Relu"; break;
  case ElementwiseOp::Tanh: same = "Tanh"; break;
  case ElementwiseOp::Softsign: same = "Softsign"; break;
  case ElementwiseOp::Softplus: same = "Softplus"; break;
  case ElementwiseOp::Abs: same = "Abs"; break;
  case ElementwiseOp::Sqrt: same = "Sqrt"; break;
  case ElementwiseOp::Erf: same = "Erf"; break;
  case ElementwiseOp::Add: same = "Add"; break;
  case ElementwiseOp::Sub: same = "Sub"; break;
  case ElementwiseOp::Mul: same = "Mul"; break;
  case ElementwiseOp::Div: same = "Div"; break;
  case ElementwiseOp::LeakyRelu:
    setFloat(node("LeakyRelu", in, output), "alpha",
             static_cast<float>(param));
    return;
  case ElementwiseOp::Gelu: {
    std::string s = tmp("scaled"), e = tmp("erf"), p = tmp("plus1"),
                m = tmp("mul");
    node("Div", {in[0], scalar("sqrt2", static_cast<float>(std::sqrt(2.0)))},
         s);
    node("Erf", {s}, e);
    node("Add", {e, scalar("one", 1.0f)}, p);
    node("Mul", {in[0], p}, m);
    node("Mul", {m, scalar("half", 0.5f)}, output);
    return;
  }
  case ElementwiseOp::Silu: {
    std::string s = tmp("sigmoid");
    node("Sigmoid", in, s);
    node("Mul", {in[0], s}, output);
    return;
  }
  case ElementwiseOp::Step: {
    std::string c = tmp("positive");
    node("Greater", {in[0], scalar("zero", 0.0f)}, c);
    setInt(node("Cast", {c}, output), "to", onnx::TensorProto_DataType_FLOAT);
    return;
  }
  }
  node(same, in, output);
}

void OnnxExporter::emitElementwise(NodeId id) {
  const Node &n = g[id];
  if (auto it = gemmOf.find(id); it != gemmOf.end()) {
    const Node &m = g[it->second];
    NodeId bias = n.inputs[0] == it->second ? n.inputs[1] : n.inputs[0];
    setInt(node("Gemm", {val(m.inputs[0]), names[m.inputs[1]], val(bias)},
                names[id]),
           "transB", 1);
    return;
  }
  if (auto it = layerNormOf.find(id); it != layerNormOf.end()) {
    const LayerNormParts &p = it->second;
    onnx::NodeProto &ln =
        node("LayerNormalization",
             {val(g[p.normalize].inputs[0]), val(p.weight), val(p.bias)},
             names[id]);
    setInt(ln, "axis", -1);
    setFloat(ln, "epsilon", static_cast<float>(g[p.normalize].param));
    return;
  }
  std::vector<std::string> in;
  for (NodeId x : n.inputs)
    in.push_back(val(x));
  elementwise(n.op, in, names[id], n.param);
}

void OnnxExporter::emitLinalg(NodeId id) {
  const Node &n = g[id];
  const std::string &y = names[id];
  switch (member<LinalgOp>(n.op)) {
  case LinalgOp::MatMul: {
    const Node &w = g[n.inputs[1]];
    if (w.op == OpKind::Param && w.storedTransposed && w.type.rank() == 2 &&
        g[n.inputs[0]].type.rank() == 2) { // nn.Linear without a bias
      setInt(node("Gemm", {val(n.inputs[0]), names[n.inputs[1]]}, y),
             "transB", 1);
      return;
    }
    node("MatMul", {val(n.inputs[0]), val(n.inputs[1])}, y);
    return;
  }
  case LinalgOp::Transpose:
    setInts(node("Transpose", {val(n.inputs[0])}, y), "perm", {1, 0});
    return;
  case LinalgOp::Expand: {
    std::string shape = fresh(y + "/shape");
    node("Shape", {val(n.inputs[1])}, shape);
    node("Expand", {val(n.inputs[0]), shape}, y);
    return;
  }
  case LinalgOp::Reshape: {
    const TensorType &from = g[n.inputs[0]].type;
    if (from.hasBatch() && n.type.hasBatch() && n.type.rank() == 2) {
      setInt(node("Flatten", {val(n.inputs[0])}, y), "axis", 1);
      return;
    }
    std::vector<int64_t> dims = n.type.dims;
    if (n.type.hasBatch())
      dims[0] = 0; // Reshape's 0: the input's own first dimension, N
    node("Reshape", {val(n.inputs[0]), constInts(y + "/shape", dims)}, y);
    return;
  }
  }
}

void OnnxExporter::emitReduce(NodeId id) {
  const Node &n = g[id];
  const std::string &y = names[id];
  std::string x = val(n.inputs[0]);
  std::vector<std::string> sumIn;
  switch (member<ReduceOp>(n.op)) {
  case ReduceOp::Mean: {
    onnx::NodeProto &r = node("ReduceMean", {x}, y);
    if (n.axis >= 0)
      setInts(r, "axes", {n.axis});
    setInt(r, "keepdims", 0);
    return;
  }
  case ReduceOp::Sum:
    sumIn = {x};
    break;
  case ReduceOp::Count: { // the sum of ones shaped like x
    std::string shape = fresh(y + "/shape"), ones = fresh(y + "/ones");
    node("Shape", {x}, shape);
    node("Expand", {constFloat(y + "/one", {}, {1.0f}), shape}, ones);
    sumIn = {ones};
    break;
  }
  }
  if (n.axis >= 0)
    sumIn.push_back(constInts(y + "/axes", {n.axis}));
  setInt(node("ReduceSum", sumIn, y), "keepdims", 0);
}

void OnnxExporter::emitRows(NodeId id) {
  const Node &n = g[id];
  const std::string &y = names[id];
  switch (member<RowsOp>(n.op)) {
  case RowsOp::Softmax:
    setInt(node("Softmax", {val(n.inputs[0])}, y), "axis", -1);
    return;
  case RowsOp::OneHot: {
    std::string depth = constInts(y + "/depth", {n.classes}, true);
    setInt(node("OneHot",
                {val(n.inputs[0]), depth,
                 constFloat(y + "/values", {2}, {0.0f, 1.0f})},
                y),
           "axis", -1);
    return;
  }
  case RowsOp::Normalize: { // layer_norm without its weight and bias
    int64_t d = n.type.dims.back();
    onnx::NodeProto &ln = node(
        "LayerNormalization",
        {val(n.inputs[0]),
         constFloat(y + "/scale", {d}, std::vector<float>(d, 1.0f))},
        y);
    setInt(ln, "axis", -1);
    setFloat(ln, "epsilon", static_cast<float>(n.param));
    return;
  }
  case RowsOp::NormalizeGrad:
    return unsupported(id, "a gradient is not part of the prediction");
  }
}

} // namespace nn
