//===- OnnxImport.h - nnc import: ONNX models to .nn files ------*- C++ -*-===//
///
/// \file
/// `nnc import model.onnx -o model.nn`: an ONNX graph made of ops nnc
/// supports becomes a readable `.nn` file (layers where a pattern matches,
/// plain expressions otherwise) and its weights, named as the file's layers
/// name them, in PyTorch's layout. No protobuf type appears here: the
/// library is built only with the ONNX protos (NNC_HAVE_ONNX).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Tensor.h"

#include <map>
#include <string>

namespace nn {

/// What an import produces.
struct OnnxImport {
  std::string nn; ///< the `.nn` source
  /// The same with a default train block: `nn` differs only for a model
  /// nnc exported, whose metadata holds its source's train block.
  std::string nnDefaultRecipe;
  TensorMap weights; ///< for the safetensors file
  /// Weight name -> the ONNX initializer it came from, for the metadata.
  std::map<std::string, std::string> origins;
};

/// Translates serialized ONNX `bytes`. `file` names the model in messages,
/// `modelName` is written on the `model` line, `weightsFile` in a comment.
/// Throws UserError ("file: error: ...") for a malformed, hostile or
/// unsupported model; every unsupported op or node is listed in one error.
OnnxImport importOnnx(const std::string &file, const std::string &bytes,
                      const std::string &modelName,
                      const std::string &weightsFile);

} // namespace nn
