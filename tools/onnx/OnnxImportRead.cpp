//===- OnnxImportRead.cpp - ONNX protobuf to the importer's Model --------===//
///
/// \file
/// Reads serialized ONNX bytes into onnximport::Model and checks what a
/// hostile file could abuse.
///
/// Algorithm: parse the ModelProto (a truncated or non-protobuf file fails
/// here); check the default domain's opset; convert every initializer and
/// Constant node to a float tensor or an int64 list, checking each dimension
/// and the element count against kMaxDim/kMaxElements and the stored data
/// size against the dimensions *before* allocating (the data is in the file,
/// so nothing larger than the file is ever allocated); refuse external
/// data, naming the path (and saying when it escapes the model's folder);
/// take the one graph input that is not an initializer (batch axis first,
/// every other dimension known) and the one output; copy the nodes with
/// their attributes. orderAndCheck (OnnxImportOrder.cpp) then sorts them.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImportModel.h"
#include "tools/onnx/OnnxImportProto.h"

#include "ir/Support.h"

#include <fmt/format.h>

#include <climits>
#include <cstring>
#include <sstream>

namespace nn::onnximport {

void fail(const Model &m, const std::string &msg) {
  throw UserError(m.file + ": error: " + msg);
}

namespace {

/// Element count of `dims`, failing for a negative or huge dimension.
int64_t checkedNumel(const Model &m, const std::string &what,
                     const google::protobuf::RepeatedField<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > kMaxDim)
      fail(m, fmt::format("{} has dimension {}: nnc import reads dimensions "
                          "from 0 to {}",
                          what, d, kMaxDim));
    n *= d;
    if (n > kMaxElements)
      fail(m, fmt::format("{} has more than {} elements", what, kMaxElements));
  }
  return n;
}

/// Refuses external data with the reason; an escaping path is named so.
[[noreturn]] void refuseExternal(const Model &m, const std::string &what,
                                 const onnx::TensorProto &t) {
  std::string where;
  for (const auto &kv : t.external_data())
    if (kv.key() == "location")
      where = kv.value();
  bool escapes = where.empty() || where[0] == '/' ||
                 where.find("..") != std::string::npos ||
                 where.find('\\') != std::string::npos;
  fail(m, fmt::format("{} keeps its data in an external file '{}'{}; nnc "
                      "import reads models whose weights are inside the "
                      ".onnx file (save with onnx.save_model(..., "
                      "save_as_external_data=False))",
                      what, where,
                      escapes ? ", a path outside the model's folder" : ""));
}

/// Copies `count` little-endian values of type T from raw bytes.
template <typename T>
std::vector<T> fromRaw(const std::string &raw, int64_t count) {
  std::vector<T> v(static_cast<size_t>(count));
  if (count)
    std::memcpy(v.data(), raw.data(), static_cast<size_t>(count) * sizeof(T));
  return v;
}

void dataSizeMismatch(const Model &m, const std::string &what, int64_t have,
                      int64_t want) {
  fail(m, fmt::format("{} holds {} values, but its dimensions give {}", what,
                      have, want));
}

/// One tensor (an initializer or a Constant's value) into `m`.
void addTensor(Model &m, const std::string &name, const std::string &what,
               const onnx::TensorProto &t) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL ||
      t.external_data_size() > 0)
    refuseExternal(m, what, t);
  int64_t n = checkedNumel(m, what, t.dims());
  bool raw = t.has_raw_data();
  auto rawCount = [&](size_t width) {
    if (t.raw_data().size() % width != 0 ||
        static_cast<int64_t>(t.raw_data().size() / width) != n)
      dataSizeMismatch(m, what, t.raw_data().size() / width, n);
  };
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT: {
    if (raw)
      rawCount(4);
    else if (t.float_data_size() != n)
      dataSizeMismatch(m, what, t.float_data_size(), n);
    Tensor out;
    out.shape = dims;
    out.data =
        raw ? fromRaw<float>(t.raw_data(), n)
            : std::vector<float>(t.float_data().begin(), t.float_data().end());
    m.floats[name] = std::move(out);
    return;
  }
  case onnx::TensorProto::INT64:
    if (raw)
      rawCount(8);
    else if (t.int64_data_size() != n)
      dataSizeMismatch(m, what, t.int64_data_size(), n);
    m.ints[name] = raw ? fromRaw<int64_t>(t.raw_data(), n)
                       : std::vector<int64_t>(t.int64_data().begin(),
                                              t.int64_data().end());
    return;
  case onnx::TensorProto::INT32: {
    if (raw)
      rawCount(4);
    else if (t.int32_data_size() != n)
      dataSizeMismatch(m, what, t.int32_data_size(), n);
    std::vector<int32_t> v = raw ? fromRaw<int32_t>(t.raw_data(), n)
                                 : std::vector<int32_t>(t.int32_data().begin(),
                                                        t.int32_data().end());
    m.ints[name] = std::vector<int64_t>(v.begin(), v.end());
    return;
  }
  default:
    fail(m, fmt::format("{} has ONNX data type {}; nnc import reads float32 "
                        "tensors (and int64 or int32 shapes)",
                        what, static_cast<int>(t.data_type())));
  }
}

void readOpset(Model &m, const onnx::ModelProto &p) {
  for (const auto &o : p.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      m.opset = o.version();
  if (m.opset == 0)
    fail(m, "the model does not import the standard ONNX operator set");
  if (m.opset < kMinOpset || m.opset > kMaxOpset)
    fail(m, fmt::format("opset {} is not supported: nnc import reads opsets "
                        "{} to {} (torch.onnx.export(..., opset_version=17))",
                        m.opset, kMinOpset, kMaxOpset));
}

Attr readAttr(const onnx::AttributeProto &a) {
  Attr r;
  switch (a.type()) {
  case onnx::AttributeProto::INT:
    r.kind = Attr::Kind::Int;
    r.i = a.i();
    break;
  case onnx::AttributeProto::FLOAT:
    r.kind = Attr::Kind::Float;
    r.f = a.f();
    break;
  case onnx::AttributeProto::INTS:
    r.kind = Attr::Kind::Ints;
    r.ints.assign(a.ints().begin(), a.ints().end());
    break;
  case onnx::AttributeProto::FLOATS:
    r.kind = Attr::Kind::Floats;
    r.floats.assign(a.floats().begin(), a.floats().end());
    break;
  case onnx::AttributeProto::STRING:
    r.kind = Attr::Kind::String;
    r.s = a.s();
    break;
  default:
    break;
  }
  return r;
}

/// A Constant node's value, stored as an initializer named by its output.
void readConstant(Model &m, const Node &n, const onnx::NodeProto &p) {
  if (n.outputs.size() != 1 || n.outputs[0].empty())
    fail(m, n.label() + " must have one output");
  const std::string &out = n.outputs[0];
  m.constants.insert(out);
  if (m.floats.count(out) || m.ints.count(out))
    fail(m, fmt::format("'{}' is defined twice ({} and an initializer)", out,
                        n.label()));
  for (const auto &a : p.attribute()) {
    if (a.name() == "value" && a.type() == onnx::AttributeProto::TENSOR)
      return addTensor(m, out, n.label(), a.t());
    Attr v = readAttr(a);
    if (a.name() == "value_float" && v.kind == Attr::Kind::Float)
      m.floats[out] = Tensor(std::vector<int64_t>{});
    if (a.name() == "value_float" && v.kind == Attr::Kind::Float)
      m.floats[out].data[0] = static_cast<float>(v.f);
    else if (a.name() == "value_floats" && v.kind == Attr::Kind::Floats) {
      if (static_cast<int64_t>(v.floats.size()) > kMaxElements)
        fail(m, n.label() + " is too large");
      Tensor t({static_cast<int64_t>(v.floats.size())});
      for (size_t i = 0; i < v.floats.size(); ++i)
        t.data[i] = static_cast<float>(v.floats[i]);
      m.floats[out] = std::move(t);
    } else if (a.name() == "value_int" && v.kind == Attr::Kind::Int)
      m.ints[out] = {v.i};
    else if (a.name() == "value_ints" && v.kind == Attr::Kind::Ints)
      m.ints[out] = v.ints;
    else
      continue;
    return;
  }
  fail(m, n.label() + " has no value nnc import reads (a float32 or int64 "
                      "tensor, value_float(s) or value_int(s))");
}

void readNodes(Model &m, const onnx::GraphProto &g) {
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &p = g.node(i);
    Node n;
    n.index = i;
    n.name = p.name();
    bool std = p.domain().empty() || p.domain() == "ai.onnx";
    n.op = std ? p.op_type() : p.domain() + "." + p.op_type();
    n.inputs.assign(p.input().begin(), p.input().end());
    n.outputs.assign(p.output().begin(), p.output().end());
    for (const auto &a : p.attribute())
      n.attrs[a.name()] = readAttr(a);
    if (n.op == "Constant")
      readConstant(m, n, p);
    else
      m.nodes.push_back(std::move(n));
  }
}

/// The one graph input that no initializer feeds, with its per-sample dims.
void readInput(Model &m, const onnx::GraphProto &g) {
  std::vector<const onnx::ValueInfoProto *> ins;
  for (const auto &v : g.input())
    if (!m.floats.count(v.name()) && !m.ints.count(v.name()))
      ins.push_back(&v);
  if (ins.size() != 1)
    fail(m, fmt::format("the graph has {} inputs besides its initializers; "
                        "nnc models have one input",
                        ins.size()));
  const onnx::ValueInfoProto &v = *ins[0];
  m.input = v.name();
  std::string what = fmt::format("input '{}'", v.name());
  if (v.name().empty())
    fail(m, "the graph input has no name");
  if (!v.type().has_tensor_type() ||
      v.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
    fail(m, what + " is not a float32 tensor");
  const auto &t = v.type().tensor_type();
  if (!t.has_shape() || t.shape().dim_size() < 1 || t.shape().dim_size() > 5)
    fail(m, what + " needs a shape of rank 1 to 5, the batch axis first");
  if (t.shape().dim(0).has_dim_value())
    m.batch = t.shape().dim(0).dim_value();
  int64_t per = 1;
  for (int i = 1; i < t.shape().dim_size(); ++i) {
    const auto &d = t.shape().dim(i);
    if (!d.has_dim_value() || d.dim_value() < 1 || d.dim_value() > kMaxDim)
      fail(m, fmt::format("{} has dimension {} of {}: nnc needs every axis "
                          "after the batch known, from 1 to {}",
                          what, i,
                          d.has_dim_value() ? std::to_string(d.dim_value())
                                            : "'" + d.dim_param() + "'",
                          kMaxDim));
    per *= d.dim_value();
    if (per > kMaxElements)
      fail(m, what + " has too many values per sample");
    m.inputDims.push_back(d.dim_value());
  }
}

/// Identity (or Dropout) of an initializer, as torch.onnx.export writes for
/// a shared one: the output becomes the same initializer, the node goes.
void foldInitializerCopies(Model &m) {
  std::vector<Node> kept;
  for (Node &n : m.nodes) {
    bool copy = (n.op == "Identity" || n.op == "Dropout") &&
                !n.inputs.empty() && n.outputs.size() == 1;
    if (copy && m.floats.count(n.inputs[0]))
      m.floats[n.outputs[0]] = m.floats[n.inputs[0]];
    else if (copy && m.ints.count(n.inputs[0]))
      m.ints[n.outputs[0]] = m.ints[n.inputs[0]];
    else
      kept.push_back(std::move(n));
  }
  m.nodes = std::move(kept);
}

/// The `train { ... }` block of `.nn` source: from a line starting with
/// `train` to the first line that is only `}` (or the same line, when it
/// closes there); "" when there is none.
std::string trainBlockOf(const std::string &source) {
  std::istringstream in(source);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.rfind("train", 0) == 0 &&
        line.find('{') != std::string::npos) {
      inside = true;
      if (line.find('}') != std::string::npos)
        return line + "\n";
    }
    if (inside) {
      block += line + "\n";
      if (line.find_first_not_of(" \t") != std::string::npos &&
          line.substr(line.find_first_not_of(" \t")) == "}")
        return block;
    }
  }
  return "";
}

} // namespace

Model readModel(const std::string &file, const std::string &bytes) {
  Model m;
  m.file = file;
  onnx::ModelProto p;
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    fail(m, "the file is larger than 2 GiB, the limit of a protobuf message");
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail(m, "not a valid ONNX model: the protobuf data is truncated or "
            "malformed");
  if (!p.has_graph())
    fail(m, "not an ONNX model: it has no graph");
  if (!p.producer_name().empty())
    m.producer = p.producer_name() + " " + p.producer_version();
  readOpset(m, p);
  for (const auto &kv : p.metadata_props())
    if (kv.key() == "nnc.source")
      m.trainBlock = trainBlockOf(kv.value());
  const onnx::GraphProto &g = p.graph();
  if (g.sparse_initializer_size() > 0)
    fail(m, "sparse initializers are not supported");
  for (const onnx::TensorProto &t : g.initializer()) {
    std::string what = fmt::format("initializer '{}'", t.name());
    if (t.name().empty())
      fail(m, "an initializer has no name");
    if (m.floats.count(t.name()) || m.ints.count(t.name()))
      fail(m, what + " is defined twice");
    addTensor(m, t.name(), what, t);
  }
  readNodes(m, g);
  readInput(m, g);
  if (g.output_size() != 1)
    fail(m, fmt::format("the graph has {} outputs; nnc models have one "
                        "(their prediction)",
                        g.output_size()));
  m.output = g.output(0).name();
  orderAndCheck(m);
  foldInitializerCopies(m);
  return m;
}

} // namespace nn::onnximport
