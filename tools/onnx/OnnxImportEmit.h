//===- OnnxImportEmit.h - ONNX nodes to .nn statements ---------*- C++ -*-===//
///
/// \file
/// The state of one import while it walks the ordered nodes: each batched
/// ONNX value's `.nn` name and per-sample shape, the names taken, the
/// statements and weights written so far, and the problems found (all
/// reported together at the end). OnnxImportLayers.cpp matches the layer
/// patterns (dense, conv2d, batch_norm, layer_norm, pooling),
/// OnnxImportExprs.cpp the plain expressions, OnnxImportWrite.cpp assembles
/// the file.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/onnx/OnnxImportModel.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nn::onnximport {

/// A value of the batch: its name in the `.nn` file and its shape per sample
/// (the batch axis dropped).
struct Value {
  std::string expr;
  std::vector<int64_t> dims;
};

/// Shortest decimal text that reads back as the same float ("0.1", "1e-05").
std::string numText(double v);
/// An ONNX name as a `.nn` name: "features.0" -> "features_0"; "" when
/// nothing usable is left.
std::string sanitize(const std::string &s);
/// "3" when both are equal, else "[3, 5]".
std::string pairText(int64_t a, int64_t b);
/// "[1, 28, 28]".
std::string dimsText(const std::vector<int64_t> &dims);

class Emitter {
public:
  explicit Emitter(const Model &m);
  /// Translates every node, then checks the output; throws UserError with
  /// every problem found.
  void run();

  const Model &m;
  std::vector<std::string> lines; ///< params, statements and their comments
  TensorMap weights;              ///< PyTorch layout, by `.nn` name
  std::map<std::string, std::string> origins; ///< weight -> initializer
  std::string inputName;
  /// The prediction: `softmax(predExpr)` when softmaxPred, else predExpr.
  std::string predExpr;
  bool softmaxPred = false;
  bool sigmoidPred = false; ///< `sigmoid(predExpr)`, a binary label
  std::vector<int64_t> predDims;
  std::string labelName;

  // Helpers shared by the pattern files.
  /// A unique `.nn` name: `base` itself when free and `numbered` is false,
  /// else base1, base2, ...
  std::string fresh(const std::string &base, bool numbered);
  /// A statement's name: the ONNX value's own name when it is already a
  /// valid, free `.nn` name (as nnc export writes them), else base1, ...
  std::string valueName(const std::string &onnx, const std::string &base);
  /// A layer's name, from its weight initializer ("fc1.weight" -> "fc1"),
  /// else kind1, kind2, ...
  std::string layerName(const std::string &weightInit, const std::string &kind);
  void problem(const Node &n, const std::string &why);
  /// The batched value `name`, or null (an initializer, or a value whose
  /// producer had a problem).
  const Value *value(const std::string &name) const;
  const Tensor *initializer(const std::string &name) const;
  /// True when some input of `n` is neither a value nor an initializer (its
  /// producer had a problem): `n` is skipped without another message.
  bool blocked(const Node &n) const;
  /// The node that alone reads `v`, when `v` is not the graph output.
  const Node *onlyUser(const std::string &v) const;
  /// The activation node right after `v` that a layer can take, with its
  /// `.nn` text ("relu", "leaky_relu(0.2)"); marks it absorbed.
  /// A sigmoid at the graph output after a layer of `width` 1 is left to
  /// be the loss's prediction.
  const Node *takeActivation(const std::string &v, std::string &act,
                             int64_t width = -1);
  /// Binds ONNX value `onnx` to `.nn` name `nn` with `dims`.
  void bind(const std::string &onnx, const std::string &nn,
            std::vector<int64_t> dims);
  /// Writes `name = text` under an optional comment.
  void statement(const std::string &name, const std::string &text,
                 const std::string &comment = "");
  void addWeight(const std::string &name, Tensor t, const std::string &from);
  /// The `.nn` param for a non-scalar initializer used in an expression,
  /// declared (once) with its leading 1-dims dropped.
  std::string paramFor(const std::string &init, const Tensor &t);
  std::set<const Node *> absorbed;

private:
  void node(const Node &n);
  void finish();
  // OnnxImportLayers.cpp
  void gemm(const Node &n);
  void matmul(const Node &n);
  void conv(const Node &n);
  void batchNorm(const Node &n);
  void layerNorm(const Node &n);
  void pool(const Node &n);
  void globalPool(const Node &n);
  void denseLayer(const Node &n, const Value &x, Tensor w, const Tensor *b,
                  const std::string &wName, const std::string &bName,
                  const std::string &out);
  // OnnxImportExprs.cpp
  void binary(const Node &n);
  void unary(const Node &n);
  void flatten(const Node &n);
  void reshape(const Node &n);
  void softmax(const Node &n);

  std::map<std::string, Value> vals;
  std::map<std::string, int> uses;
  std::map<std::string, const Node *> lastUser;
  std::map<std::string, std::string> params; ///< initializer -> param
  std::set<std::string> taken;
  std::vector<std::string> problems;
};

/// The `.nn` text of a finished import (OnnxImportWrite.cpp); with
/// `withRecipe`, the train block of the model's nnc source when it has one.
std::string writeNn(const Emitter &e, const std::string &modelName,
                    const std::string &weightsFile, bool withRecipe);

} // namespace nn::onnximport
