//===- ExportCommand.cpp - nnc export -------------------------------------===//
///
/// \file
/// `nnc export model.nn [--weights w.safetensors] -o model.onnx`: the
/// model's prediction as an ONNX model (tools/onnx/OnnxExport.h), written
/// atomically. Without --weights the parameters are the model's first
/// values (its initializers drawn with the recipe's seed, as `nnc train`
/// starts), and a note says so. A build without the ONNX protos says so and
/// exits 1.
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "runtime/ParamInit.h"
#include "runtime/WeightsFile.h"
#include "tools/Driver.h"
#include "tools/onnx/OnnxExport.h"

#include <filesystem>
#include <iostream>

namespace nn {

namespace {

#if NNC_HAVE_ONNX
int runExport(const Args &args) {
  LoadedModel m = loadModel(args);
  auto out = args.get("output");
  if (!out)
    throw UserError("nnc: error: export needs -o FILE.onnx");
  auto weights = args.get("weights");
  checkOutputPaths({{"the model", m.path}, {"--weights", weights.value_or("")}},
                   {{"--output", *out, "the ONNX model"}});
  Graph fwd = compileTo(m, Stage::Forward);
  TensorMap params = initState(fwd, m.model.recipe.seed);
  OnnxExportInfo info{m.path, m.text, ""};
  if (weights) {
    for (auto &[name, t] : loadWeights(*weights, fwd, false).values)
      params[name] = t;
    info.weights = std::filesystem::path(*weights).filename().string();
  } else {
    info.weights = "initial values (seed " +
                   std::to_string(m.model.recipe.seed) + ")";
    std::cerr << "nnc: note: no --weights: exporting the model's initial "
                 "parameters (seed "
              << m.model.recipe.seed << ")\n";
  }
  DiagEngine diags;
  diags.addSource(m.path, m.text);
  OnnxExportResult r;
  try {
    r = exportOnnx(fwd, params, info, diags);
  } catch (const DiagnosedError &) {
    diags.print(std::cerr, useColor());
    throw;
  }
  writeFileAtomic(*out, r.bytes);
  std::cout << "exported '" << fwd.name << "' to " << *out << ": opset "
            << kOnnxOpset << ", " << r.nodes << " nodes, " << r.initializers
            << " initializers (" << withCommas(double(r.parameters))
            << " parameters), " << withCommas(double(r.bytes.size()))
            << " bytes\n";
  return 0;
}
#else
int runExport(const Args &) {
  throw UserError("nnc: error: this nnc was built without ONNX support: "
                  "install libonnx-dev and libprotobuf-dev (make deps) and "
                  "build again");
}
#endif

} // namespace

const Command &exportCommand() {
  static const Command c{
      "export",
      "the model's prediction as an ONNX model (opset 17)",
      {{"weights", "FILE",
        "the trained weights (safetensors); without it, the model's initial "
        "parameters (its initializers with the recipe's seed)"},
       {"output", "FILE", "write the ONNX model here (required)", 'o'}},
      runExport};
  return c;
}

} // namespace nn
