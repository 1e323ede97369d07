//===- OnnxImportWrite.cpp - The imported model as .nn text --------------===//
///
/// \file
/// Assembles the `.nn` file of an import, and the library's entry point.
///
/// Algorithm: a header comment (source file, producer, opset, the weights
/// file and how its names relate to the ONNX initializers), `model`, the
/// input (the ONNX input's shape without its batch axis) and the label,
/// the statements in graph order, the loss, then a `train` block for the
/// user to fill. The loss follows the output: a softmax at the output, or
/// scores [N,k], give `label y : class(k)` and `cross_entropy(softmax(z),
/// y)` (nnc's prediction is then the probabilities; a comment says when
/// the ONNX model output the scores themselves); any other output, one
/// number or a vector per sample, gives a real label and `mse`.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImport.h"
#include "tools/onnx/OnnxImportEmit.h"

#include <fmt/format.h>

namespace nn {
namespace onnximport {

namespace {

void writeLoss(const Emitter &e, std::string &out) {
  const std::string &z = e.predExpr, &y = e.labelName;
  if (e.sigmoidPred) {
    out += fmt::format("\n# The ONNX model outputs sigmoid({}): the "
                       "probability of class 1, nnc's prediction.\n",
                       z);
    out += fmt::format("loss bce(sigmoid({}), {})\n", z, y);
  } else if (e.softmaxPred) {
    out += fmt::format("\n# The ONNX model outputs softmax({}): the "
                       "probabilities, nnc's prediction.\n",
                       z);
    out += fmt::format("loss cross_entropy(softmax({}), {})\n", z, y);
  } else if (e.predDims.size() == 1 && e.predDims[0] >= 2) {
    out += fmt::format(
        "\n# The ONNX model outputs the scores {} (logits); nnc's prediction "
        "is softmax({}).\n# For the scores themselves: label {} : real[{}] "
        "and loss mse({}, {}).\n",
        z, z, y, e.predDims[0], z, y);
    out += fmt::format("loss cross_entropy(softmax({}), {})\n", z, y);
  } else {
    out += fmt::format("\n# The ONNX model outputs {}: nnc's prediction; a "
                       "regression loss.\n",
                       z);
    out += fmt::format("loss mse({}, {})\n", z, y);
  }
}

std::string labelType(const Emitter &e) {
  if (e.sigmoidPred)
    return "binary";
  if (e.softmaxPred || (e.predDims.size() == 1 && e.predDims[0] >= 2))
    return fmt::format("class({})", e.predDims[0]);
  return e.predDims.empty() ? "real" : fmt::format("real[{}]", e.predDims[0]);
}

} // namespace

std::string writeNn(const Emitter &e, const std::string &modelName,
                    const std::string &weightsFile, bool withRecipe) {
  const Model &m = e.m;
  std::string out = fmt::format(
      "# Imported from {} by nnc import ({}opset {}).\n"
      "# Weights: {}, named as this file's layers name them, in PyTorch's "
      "layout\n# (a dense layer's fc1.weight is [out, in]); the comments "
      "name the ONNX\n# initializers they come from.\n",
      m.file, m.producer.empty() ? "" : m.producer + ", ", m.opset,
      weightsFile);
  out += fmt::format("model {}\n\n", modelName);
  out += fmt::format("input {} : f32{}\n", e.inputName,
                     m.inputDims.empty() ? "" : dimsText(m.inputDims));
  out += fmt::format("label {} : {}\n\n", e.labelName, labelType(e));
  for (const std::string &l : e.lines)
    out += l + "\n";
  writeLoss(e, out);
  if (withRecipe && !m.trainBlock.empty()) {
    out += "\n# The training recipe of the nnc model this file was exported "
           "from (its\n# metadata 'nnc.source').\n" +
           m.trainBlock;
    return out;
  }
  out += "\n# nnc import writes no training recipe: give the data and the "
         "settings here\n# (docs/language.md, \"The train block\"), e.g.\n"
         "#   data idx(\"/usr/share/datasets/fashion-mnist/train\")\n"
         "train {\n  optimizer sgd(lr = 0.01)\n  batch 32\n  epochs 1\n}\n";
  return out;
}

} // namespace onnximport

OnnxImport importOnnx(const std::string &file, const std::string &bytes,
                      const std::string &modelName,
                      const std::string &weightsFile) {
  onnximport::Model m = onnximport::readModel(file, bytes);
  onnximport::Emitter e(m);
  e.run();
  std::string name = onnximport::sanitize(modelName);
  if (name.empty())
    name = "imported";
  for (const char *k : {"model", "input", "label", "param", "loss", "train"})
    if (name == k)
      name += "_model";
  OnnxImport r;
  r.nn = onnximport::writeNn(e, name, weightsFile, true);
  r.nnDefaultRecipe = onnximport::writeNn(e, name, weightsFile, false);
  r.weights = std::move(e.weights);
  r.origins = std::move(e.origins);
  return r;
}

} // namespace nn
