//===- OnnxExportGraph.cpp - Names, leaves and patterns of nnc export -----===//
///
/// \file
/// Algorithm: mark the nodes output "pred" needs (a walk back from it);
/// count their uses among themselves; name every value (leaves by their own
/// names, which are the safetensors names of parameters; the prediction
/// "pred"; other nodes by their readable name, made unique, or "t<id>").
/// Then find the patterns that one ONNX op computes, each only when the
/// inner nodes have no other use:
///   add(matmul(a, W), b), W a parameter stored [out, in]  -> Gemm(transB=1)
///   channel_affine(batch_normalize(x, rm, rv), s, t)       -> BatchNormalization
///   add(mul(normalize(x), w), b), w, b over the last axis  -> LayerNormalization
/// and emit, in graph order, the graph inputs, the initializers (in
/// safetensors layout) and every needed node not absorbed by a pattern
/// (OnnxExportOps.cpp) with a value_info of its nnc type, then the output
/// "pred".
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxExporter.h"
#include "runtime/WeightsFile.h"

#include <fmt/format.h>

namespace nn {

using namespace onnxproto;

namespace {

/// The ONNX element type of an nnc dtype.
int elemType(DType t) {
  switch (t) {
  case DType::F32:
    return onnx::TensorProto_DataType_FLOAT;
  case DType::I32:
    return onnx::TensorProto_DataType_INT32;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

} // namespace

void OnnxExporter::markNeeded(NodeId pred) {
  needed.assign(g.nodes.size(), false);
  uses.assign(g.nodes.size(), 0);
  needed[pred] = true;
  uses[pred] = 1; // the graph output
  for (NodeId id = pred; id >= 0; --id)
    if (needed[id])
      for (NodeId in : g[id].inputs) {
        needed[in] = true;
        ++uses[in];
      }
}

std::string OnnxExporter::fresh(const std::string &wanted) {
  const std::string base = wanted.empty() ? std::string("t") : wanted;
  std::string name = base;
  for (int k = 1; taken.count(name); ++k)
    name = fmt::format("{}_{}", base, k);
  taken.insert(name);
  return name;
}

void OnnxExporter::assignNames(NodeId pred) {
  names.assign(g.nodes.size(), "");
  for (NodeId id = 0; id < g.size(); ++id)
    if (needed[id] && (g[id].op == OpKind::Input || g[id].op == OpKind::Label ||
                       g[id].op == OpKind::Param))
      names[id] = fresh(g[id].name);
  bool predIsLeaf = hasTrait(g[pred].op, kLeaf);
  std::string predName = fresh("pred");
  if (!predIsLeaf)
    names[pred] = predName;
  for (NodeId id = 0; id < g.size(); ++id)
    if (needed[id] && names[id].empty())
      names[id] = fresh(g[id].name.empty() ? fmt::format("t{}", id)
                                           : g[id].name);
}

std::string OnnxExporter::val(NodeId id) {
  const Node &n = g[id];
  if (n.op != OpKind::Param || !n.storedTransposed || n.type.rank() != 2)
    return names[id];
  auto it = transposedNames.find(id);
  if (it != transposedNames.end())
    return it->second;
  std::string t = fresh(names[id] + ".T");
  setInts(node("Transpose", {names[id]}, t), "perm", {1, 0});
  return transposedNames[id] = t;
}

void OnnxExporter::unsupported(NodeId id, const std::string &why) {
  const Node &n = g[id];
  std::string what = n.name.empty() ? "" : " (value '" + n.name + "')";
  diags.error(n.loc, fmt::format("cannot export op '{}'{} to ONNX: {}",
                                 mnemonic(n.op), what, why));
}

onnx::NodeProto &OnnxExporter::node(const std::string &op,
                                    const std::vector<std::string> &inputs,
                                    const std::string &output) {
  return addNode(out, op, inputs, {output}, output);
}

std::string OnnxExporter::constFloat(const std::string &base,
                                     const std::vector<int64_t> &dims,
                                     const std::vector<float> &values) {
  std::string name = fresh(base);
  onnx::NodeProto &n = addNode(out, "Constant", {}, {name}, name);
  onnx::AttributeProto &a = *n.add_attribute();
  a.set_name("value");
  a.set_type(onnx::AttributeProto_AttributeType_TENSOR);
  *a.mutable_t() = floatTensor(name, dims, values);
  return name;
}

std::string OnnxExporter::constInts(const std::string &base,
                                    const std::vector<int64_t> &values,
                                    bool scalar) {
  std::string name = fresh(base);
  onnx::NodeProto &n = addNode(out, "Constant", {}, {name}, name);
  onnx::AttributeProto &a = *n.add_attribute();
  a.set_name("value");
  a.set_type(onnx::AttributeProto_AttributeType_TENSOR);
  std::vector<int64_t> dims;
  if (!scalar)
    dims = {static_cast<int64_t>(values.size())};
  *a.mutable_t() = int64Tensor(name, dims, values);
  return name;
}

void OnnxExporter::planGemm(NodeId add) {
  for (int k = 0; k < 2; ++k) {
    NodeId m = g[add].inputs[k], bias = g[add].inputs[1 - k];
    if (g[m].op != OpKind::MatMul || uses[m] != 1 || absorbed[m])
      continue;
    const Node &w = g[g[m].inputs[1]];
    const TensorType &a = g[g[m].inputs[0]].type;
    const TensorType &b = g[bias].type;
    if (w.op != OpKind::Param || !w.storedTransposed || w.type.rank() != 2 ||
        a.rank() != 2 || b.rank() > 1 ||
        (b.rank() == 1 && b.dims[0] != w.type.dims[1]))
      continue;
    gemmOf[add] = m;
    absorbed[m] = true;
    return;
  }
}

void OnnxExporter::planBatchNorm(NodeId affine) {
  const Node &n = g[affine];
  if (n.inputs.size() != 3)
    return;
  NodeId bn = n.inputs[0];
  if (g[bn].op != OpKind::BatchNormalize || uses[bn] != 1 ||
      g[n.inputs[1]].type.rank() != 1 || g[n.inputs[2]].type.rank() != 1)
    return;
  batchNormOf[affine] = bn;
  absorbed[bn] = true;
}

void OnnxExporter::planLayerNorm(NodeId add) {
  for (int k = 0; k < 2; ++k) {
    NodeId m = g[add].inputs[k], bias = g[add].inputs[1 - k];
    if (g[m].op != OpKind::Mul || uses[m] != 1)
      continue;
    for (int j = 0; j < 2; ++j) {
      NodeId nz = g[m].inputs[j], w = g[m].inputs[1 - j];
      if (g[nz].op != OpKind::Normalize || uses[nz] != 1)
        continue;
      int64_t d = g[nz].type.dims.back();
      auto isRow = [&](NodeId v) {
        return g[v].type.dims == std::vector<int64_t>{d};
      };
      if (!isRow(w) || !isRow(bias))
        continue;
      layerNormOf[add] = {nz, w, bias};
      absorbed[m] = absorbed[nz] = true;
      return;
    }
  }
}

void OnnxExporter::planPatterns() {
  absorbed.assign(g.nodes.size(), false);
  for (NodeId id = 0; id < g.size(); ++id) {
    if (!needed[id])
      continue;
    if (g[id].op == OpKind::Add) {
      planGemm(id);
      if (!gemmOf.count(id))
        planLayerNorm(id);
    } else if (g[id].op == OpKind::ChannelAffine) {
      planBatchNorm(id);
    }
  }
}

void OnnxExporter::run(NodeId pred) {
  markNeeded(pred);
  assignNames(pred);
  planPatterns();
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (!needed[id])
      continue;
    if (n.op == OpKind::Input || n.op == OpKind::Label) {
      setValueInfo(*out.add_input(), names[id], elemType(n.type.dtype),
                   n.type.dims, kOnnxBatchDim);
    } else if (n.op == OpKind::Param) {
      auto it = params.find(n.name);
      if (it == params.end()) {
        unsupported(id, "no value for parameter '" + n.name + "'");
        continue;
      }
      const Tensor &t = n.storedTransposed ? transposed(it->second)
                                           : it->second;
      *out.add_initializer() = floatTensor(names[id], t.shape, t.data);
    } else if (!absorbed[id]) {
      emitNode(id);
      // The value's type for readers (Netron, shape inference), as nnc
      // inferred it; not for an alias (dropout) or the output itself.
      if (!hasTrait(n.op, kLeaf) && family(n.op) != OpFamily::Random &&
          id != pred && n.type.known)
        setValueInfo(*out.add_value_info(), names[id], elemType(n.type.dtype),
                     n.type.dims, kOnnxBatchDim);
    }
  }
  std::string result = val(pred);
  if (result != "pred")
    node("Identity", {result}, "pred"); // "pred" is reserved (assignNames)
  setValueInfo(*out.add_output(), "pred", elemType(g[pred].type.dtype),
               g[pred].type.dims, kOnnxBatchDim);
}

} // namespace nn
