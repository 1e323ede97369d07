//===- OnnxExport.cpp - A model's prediction as an ONNX model -------------===//
///
/// \file
/// Algorithm: strip dropout (identity at inference), find output "pred",
/// fill a ModelProto (IR version 8, opset 17 of the default domain,
/// producer "nnc"), let OnnxExporter write the graph (OnnxExportGraph.cpp,
/// OnnxExportOps.cpp, OnnxExportSpatial.cpp), add the metadata and
/// serialize. Batch norm needs no evalForm here: the graph cut to "pred"
/// drops the updates of the running statistics, and BatchNormalization in
/// inference mode reads them, as nnc's evaluation does.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxExport.h"
#include "ir/Support.h"
#include "passes/StripDropout.h"
#include "tools/onnx/OnnxExporter.h"

#include <filesystem>

#ifndef NNC_VERSION
#define NNC_VERSION "unknown"
#endif

namespace nn {

namespace {

/// ONNX IR version 8: the one that goes with opset 17 (ONNX 1.12).
constexpr int64_t kIrVersion = 8;

void addMetadata(onnx::ModelProto &m, const std::string &key,
                 const std::string &value) {
  onnx::StringStringEntryProto &e = *m.add_metadata_props();
  e.set_key(key);
  e.set_value(value);
}

} // namespace

const char *nncVersion() { return NNC_VERSION; }

OnnxExportResult exportOnnx(const Graph &forward, const TensorMap &params,
                            const OnnxExportInfo &info, DiagEngine &diags) {
  Graph g = stripDropout(forward);
  std::optional<NodeId> pred = g.output("pred");
  if (!pred)
    throw UserError("nnc: error: model '" + g.name +
                    "' has no prediction (output 'pred') to export");
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("nnc");
  model.set_producer_version(nncVersion());
  model.set_doc_string("model '" + g.name + "' exported by nnc export");
  onnx::OperatorSetIdProto &opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOnnxOpset);
  onnx::GraphProto &graph = *model.mutable_graph();
  graph.set_name(g.name);
  OnnxExporter(g, params, diags, graph).run(*pred);
  if (diags.hasErrors())
    throw DiagnosedError();

  addMetadata(model, "nnc.version", nncVersion());
  addMetadata(model, "nnc.source_file",
              std::filesystem::path(info.sourcePath).filename().string());
  addMetadata(model, "nnc.source", info.sourceText);
  addMetadata(model, "nnc.weights", info.weights);

  OnnxExportResult r;
  r.nodes = graph.node_size();
  r.initializers = graph.initializer_size();
  for (const onnx::TensorProto &t : graph.initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims())
      n *= d;
    r.parameters += n;
  }
  if (model.ByteSizeLong() > static_cast<size_t>(INT32_MAX))
    throw UserError("nnc: error: model '" + g.name +
                    "' is over 2 GiB, the most one ONNX protobuf can hold");
  if (!model.SerializeToString(&r.bytes))
    throw InternalError("serializing the ONNX model failed");
  return r;
}

} // namespace nn
