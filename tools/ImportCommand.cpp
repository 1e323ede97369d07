//===- ImportCommand.cpp - nnc import -------------------------------------===//
///
/// \file
/// `nnc import model.onnx -o model.nn [--weights w.safetensors]`: an ONNX
/// model as a `.nn` file and its weights (tools/onnx/OnnxImport.h).
///
/// Algorithm: read the file, translate it (every problem reported at once),
/// then check the result before writing anything: the `.nn` text must parse
/// and lower, and its parameters must be exactly the weights, in the shapes
/// a weights file stores them. Then the weights and the `.nn` file are each
/// written atomically. Built without the ONNX protos, the command says so
/// and exits 1.
///
//===----------------------------------------------------------------------===//

#include "tools/Driver.h"

#ifdef NNC_HAVE_ONNX
#include "tools/onnx/OnnxImport.h"

#include "runtime/AtomicFile.h"
#include "runtime/Safetensors.h"
#endif

#include "ir/Support.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

namespace nn {

namespace {

#ifdef NNC_HAVE_ONNX

/// The weights file next to `out`: model.nn -> model.safetensors.
std::string defaultWeights(const std::string &out) {
  std::filesystem::path p(out);
  p.replace_extension(".safetensors");
  return p.string();
}

/// Every Param of the lowered model is in `w` with the shape its weights
/// file stores, and nothing else is; else a UserError listing the problems.
void checkWeights(const std::string &file, const Graph &g, const TensorMap &w) {
  std::vector<std::string> problems;
  size_t params = 0;
  for (NodeId id : g.leaves(OpKind::Param)) {
    const Node &n = g[id];
    ++params;
    std::vector<int64_t> s = n.type.dims;
    if (n.storedTransposed && s.size() == 2)
      std::swap(s[0], s[1]);
    auto it = w.find(n.name);
    if (it == w.end())
      problems.push_back("no weights for '" + n.name + "'");
    else if (it->second.shape != s)
      problems.push_back(fmt::format("'{}' is [{}] in the ONNX model, the "
                                     "imported model needs [{}]",
                                     n.name, fmt::join(it->second.shape, ", "),
                                     fmt::join(s, ", ")));
  }
  if (problems.empty() && params != w.size())
    problems.push_back("the imported model has fewer parameters than weights");
  if (!problems.empty())
    throw UserError(fmt::format("{}: error: the imported model does not fit "
                                "its weights (a bug of nnc import):\n  {}",
                                file, fmt::join(problems, "\n  ")));
}

/// The lowered model of the imported text. When the text does not check:
/// with `last`, prints the errors and throws; otherwise returns nullopt.
std::optional<Model> checkText(const std::string &out, const std::string &text,
                               bool last) {
  DiagEngine diags;
  diags.addSource(out, text);
  std::optional<Model> model = parseModel(out, text, diags);
  if (model && !diags.hasErrors())
    return model;
  if (!last)
    return std::nullopt;
  diags.print(std::cerr, useColor());
  throw UserError(out + ": error: the imported model does not check (the "
                        "errors above, in the text nnc import made); nothing "
                        "was written");
}

int runImport(const Args &args) {
  if (args.positional().size() != 1)
    throw UserError("nnc: error: nnc import takes one ONNX file");
  std::string in = args.positional()[0];
  auto out = args.get("output");
  if (!out)
    throw UserError("nnc: error: nnc import needs -o FILE.nn");
  std::string weights = args.get("weights").value_or(defaultWeights(*out));
  std::string bytes = readFile(in);
  std::string stem = std::filesystem::path(*out).stem().string();
  OnnxImport r = importOnnx(in, bytes, stem,
                            std::filesystem::path(weights).filename().string());
  std::optional<Model> model = checkText(*out, r.nn, r.nn == r.nnDefaultRecipe);
  if (!model) {
    std::cerr << "nnc: note: the train block of the exported model's source "
                 "does not check here; writing a default one\n";
    r.nn = r.nnDefaultRecipe;
    model = checkText(*out, r.nn, true);
  }
  checkWeights(in, model->graph, r.weights);
  std::map<std::string, std::string> meta = {{"model", model->graph.name},
                                             {"source", in}};
  for (const auto &[name, from] : r.origins)
    meta["onnx:" + name] = from;
  writeSafetensors(weights, r.weights, meta);
  writeFileAtomic(*out, r.nn);
  std::cout << fmt::format("wrote {} and {} ({} tensors)\n", *out, weights,
                           r.weights.size());
  return 0;
}

#else

int runImport(const Args &) {
  throw UserError("nnc: error: this nnc was built without ONNX support: "
                  "install libonnx-dev and libprotobuf-dev (make deps), then "
                  "rebuild (make build)");
}

#endif

} // namespace

const Command &importCommand() {
  static const Command c{
      "import",
      "an ONNX model as a .nn file and its weights",
      {{"output", "FILE", "the .nn file to write", 'o'},
       {"weights", "FILE",
        "the weights to write (safetensors; default: FILE.nn's name with "
        ".safetensors)"}},
      runImport,
      "model.onnx -o model.nn [--weights model.safetensors]"};
  return c;
}

} // namespace nn
