//===- OnnxImportModel.h - An ONNX graph as nnc import reads it -*- C++ -*-===//
///
/// \file
/// The importer's own view of an ONNX model, free of protobuf: the one
/// input and its shape, the one output, the nodes in topological order with
/// their attributes, and the initializers (Constant nodes included) as float
/// tensors or int64 lists. OnnxImportRead.cpp fills it from the proto and
/// checks it; OnnxImportMatch.cpp turns it into `.nn` statements.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nn::onnximport {

/// The opsets of the default domain nnc import reads.
inline constexpr int64_t kMinOpset = 11;
inline constexpr int64_t kMaxOpset = 18;
/// Largest dimension of the input or of an initializer; largest element
/// count of one initializer or one sample (checked before allocating).
inline constexpr int64_t kMaxDim = int64_t(1) << 24;
inline constexpr int64_t kMaxElements = int64_t(1) << 28;

/// One attribute; `kind` says which field holds it.
struct Attr {
  enum class Kind { Int, Float, Ints, Floats, String, Other };
  Kind kind = Kind::Other;
  int64_t i = 0;
  double f = 0;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::string s;
};

struct Node {
  std::string name; ///< may be empty in the file
  std::string op;   ///< "Conv"; "domain.Op" for another domain than ONNX's
  std::vector<std::string> inputs, outputs; ///< "" for a left-out operand
  std::map<std::string, Attr> attrs;
  int index = 0; ///< position in the file's node list

  /// "node '/fc1/Gemm' (Gemm)", or "node #3 (Gemm)" when it has no name.
  std::string label() const;
  bool has(const std::string &a) const { return attrs.count(a) != 0; }
  int64_t attrInt(const std::string &a, int64_t dflt) const;
  double attrFloat(const std::string &a, double dflt) const;
  std::vector<int64_t> attrInts(const std::string &a,
                                std::vector<int64_t> dflt) const;
  std::string attrString(const std::string &a, const std::string &dflt) const;
};

/// A checked model: nodes in topological order, every input defined.
struct Model {
  std::string file;     ///< the name used in messages
  std::string producer; ///< "pytorch 1.13.1"
  int64_t opset = 0;
  /// The train block of the `.nn` source nnc export stored in the model's
  /// metadata ("nnc.source"), "" when there is none.
  std::string trainBlock;
  std::string input;              ///< the graph input's name
  std::vector<int64_t> inputDims; ///< per sample (the batch axis dropped)
  int64_t batch = 0;              ///< the input's batch size when fixed, else 0
  std::string output;             ///< the graph output's name
  std::vector<Node> nodes;
  std::map<std::string, Tensor> floats;             ///< float initializers
  std::map<std::string, std::vector<int64_t>> ints; ///< int64/int32 ones
  std::set<std::string> constants; ///< the values of Constant nodes
};

/// Parses and checks serialized ONNX bytes (OnnxImportRead.cpp). Throws a
/// UserError "FILE: error: ..." for a malformed, hostile or unsupported
/// file; unsupported ops are all listed in one error.
Model readModel(const std::string &file, const std::string &bytes);

/// Orders `m.nodes` topologically and checks that every input is defined
/// once (OnnxImportOrder.cpp); throws UserError for a cycle, an undefined
/// or twice-defined value, or unsupported ops (all listed).
void orderAndCheck(Model &m);

/// "FILE: error: MSG" as a UserError.
[[noreturn]] void fail(const Model &m, const std::string &msg);

} // namespace nn::onnximport
