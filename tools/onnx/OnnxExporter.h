//===- OnnxExporter.h - The graph walk of nnc export -----------*- C++ -*-===//
///
/// \file
/// One OnnxExporter writes one nnc graph into an onnx::GraphProto: names for
/// every value, the patterns that become one ONNX op (Gemm, the eval form of
/// BatchNormalization, LayerNormalization), and one emit function per op
/// family (OnnxExportOps.cpp). Private to tools/onnx.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "runtime/Tensor.h"
#include "tools/onnx/OnnxExport.h"
#include "tools/onnx/OnnxProtoBuild.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nn {

class OnnxExporter {
public:
  OnnxExporter(const Graph &g, const TensorMap &params, DiagEngine &diags,
               onnx::GraphProto &out)
      : g(g), params(params), diags(diags), out(out) {}

  /// Emits the graph's inputs, initializers, the nodes output `pred` needs
  /// and the graph output "pred". Errors go to `diags`.
  void run(NodeId pred);

private:
  // OnnxExportGraph.cpp: names, leaves, patterns.
  void markNeeded(NodeId pred);
  void assignNames(NodeId pred);
  void planPatterns();
  void planGemm(NodeId add);
  void planBatchNorm(NodeId affine);
  void planLayerNorm(NodeId add);
  /// `wanted` ("t" if empty), or with "_1", "_2", ... until unused.
  std::string fresh(const std::string &wanted);
  /// The value name of operand `id` as the graph holds it (a parameter
  /// stored transposed is transposed back by a Transpose node, made once).
  std::string val(NodeId id);
  /// An error at node `id`'s location: op `mnemonic` cannot be exported.
  void unsupported(NodeId id, const std::string &why);
  /// A Constant node of a FLOAT (INT64) tensor; returns its value name.
  std::string constFloat(const std::string &base,
                         const std::vector<int64_t> &dims,
                         const std::vector<float> &values);
  /// `scalar`: a rank-0 tensor of values[0], else a vector.
  std::string constInts(const std::string &base,
                        const std::vector<int64_t> &values,
                        bool scalar = false);
  onnx::NodeProto &node(const std::string &op,
                        const std::vector<std::string> &inputs,
                        const std::string &output);

  // OnnxExportOps.cpp: one function per op family.
  void emitNode(NodeId id);
  void emitLeaf(NodeId id);
  void emitElementwise(NodeId id);
  void emitLinalg(NodeId id);
  void emitReduce(NodeId id);
  void emitRows(NodeId id);
  void emitSpatial(NodeId id);
  /// Elementwise op `op` on `inputs` into `output`; `param` is leaky_relu's
  /// slope. Gelu becomes its erf form, silu x * sigmoid(x), step a cast
  /// of x > 0 (opset 17 has no single op for them).
  void elementwise(OpKind op, const std::vector<std::string> &inputs,
                   const std::string &output, double param);
  void emitConv(NodeId id);
  void emitPool(NodeId id);
  void emitChannelAffine(NodeId id);
  void emitBatchNorm(NodeId bn, NodeId affine);

  const Graph &g;
  const TensorMap &params;
  DiagEngine &diags;
  onnx::GraphProto &out;

  std::vector<bool> needed;
  std::vector<int> uses;
  std::vector<std::string> names;
  std::set<std::string> taken;
  std::map<NodeId, std::string> transposedNames;
  /// Nodes that a later node emits as part of one ONNX op.
  std::vector<bool> absorbed;
  /// add -> the matmul it becomes one Gemm with.
  std::map<NodeId, NodeId> gemmOf;
  /// channel_affine -> the batch_normalize it becomes one
  /// BatchNormalization with.
  std::map<NodeId, NodeId> batchNormOf;
  /// add -> (normalize, weight, bias) of one LayerNormalization.
  struct LayerNormParts {
    NodeId normalize, weight, bias;
  };
  std::map<NodeId, LayerNormParts> layerNormOf;
};

} // namespace nn
