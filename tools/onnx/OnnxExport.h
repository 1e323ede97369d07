//===- OnnxExport.h - A model's prediction as an ONNX model ----*- C++ -*-===//
///
/// \file
/// `nnc export`: the inference graph of a model (its "pred" output, dropout
/// removed, batch norm on its running statistics) as an ONNX ModelProto of
/// opset 17 with a symbolic batch dimension "N", every parameter an
/// initializer named and laid out as in nnc's safetensors files, and the
/// `.nn` source and nnc's version in metadata_props. docs/interop.md has
/// the table of what maps to what.
///
/// This header names no protobuf type: the ONNX protos stay inside
/// tools/onnx (the model comes back serialized).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "runtime/Tensor.h"

#include <string>

namespace nn {

/// The ONNX operator set of exported models.
inline constexpr int kOnnxOpset = 17;
/// The name of the symbolic batch dimension of exported inputs and outputs.
inline constexpr const char *kOnnxBatchDim = "N";

/// What goes in the model's metadata besides the graph.
struct OnnxExportInfo {
  std::string sourcePath; ///< the .nn file (metadata "nnc.source_file")
  std::string sourceText; ///< its text (metadata "nnc.source")
  /// Where the parameters came from (metadata "nnc.weights"): the weights
  /// file's name, or the initializers and their seed.
  std::string weights;
};

/// An exported model and what it holds.
struct OnnxExportResult {
  std::string bytes; ///< the serialized onnx.ModelProto
  int nodes = 0;
  int initializers = 0;
  int64_t parameters = 0; ///< elements of all initializers
};

/// nnc's version, as written into exported models ("nnc.version").
const char *nncVersion();

/// The ONNX model of `forward`'s output "pred" (a typed forward graph:
/// Stage::Forward of the pipeline, before autodiff and fusion), with the
/// parameters `params` (every Param leaf "pred" reads, in the graph's
/// layout). An op without an ONNX form is an error at its `.nn`
/// location, naming the op; every such error is reported to `diags` and then
/// DiagnosedError is thrown. A model without "pred" is a UserError.
OnnxExportResult exportOnnx(const Graph &forward, const TensorMap &params,
                            const OnnxExportInfo &info, DiagEngine &diags);

} // namespace nn
