//===- OnnxProtoBuild.cpp - Small helpers that fill ONNX protos -----------===//
///
/// \file
/// Algorithm: each helper sets the fields of one proto message; tensors are
/// stored as raw_data, little-endian, as the ONNX spec requires (this host
/// is little-endian, checked at compile time).
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxProtoBuild.h"

#include <bit>
#include <cstring>

namespace nn::onnxproto {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian: add a byte swap here");

onnx::NodeProto &addNode(onnx::GraphProto &g, const std::string &op,
                         const std::vector<std::string> &inputs,
                         const std::vector<std::string> &outputs,
                         const std::string &name) {
  onnx::NodeProto &n = *g.add_node();
  n.set_op_type(op);
  n.set_name(name);
  for (const std::string &in : inputs)
    n.add_input(in);
  for (const std::string &out : outputs)
    n.add_output(out);
  return n;
}

void setInt(onnx::NodeProto &n, const std::string &attr, int64_t v) {
  onnx::AttributeProto &a = *n.add_attribute();
  a.set_name(attr);
  a.set_type(onnx::AttributeProto_AttributeType_INT);
  a.set_i(v);
}

void setInts(onnx::NodeProto &n, const std::string &attr,
             const std::vector<int64_t> &v) {
  onnx::AttributeProto &a = *n.add_attribute();
  a.set_name(attr);
  a.set_type(onnx::AttributeProto_AttributeType_INTS);
  for (int64_t x : v)
    a.add_ints(x);
}

void setFloat(onnx::NodeProto &n, const std::string &attr, float v) {
  onnx::AttributeProto &a = *n.add_attribute();
  a.set_name(attr);
  a.set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a.set_f(v);
}

namespace {

template <class T>
onnx::TensorProto rawTensor(const std::string &name, int type,
                            const std::vector<int64_t> &dims,
                            const std::vector<T> &values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(type);
  for (int64_t d : dims)
    t.add_dims(d);
  std::string raw(values.size() * sizeof(T), '\0');
  if (!values.empty())
    std::memcpy(raw.data(), values.data(), raw.size());
  t.set_raw_data(std::move(raw));
  return t;
}

} // namespace

onnx::TensorProto floatTensor(const std::string &name,
                              const std::vector<int64_t> &dims,
                              const std::vector<float> &values) {
  return rawTensor(name, onnx::TensorProto_DataType_FLOAT, dims, values);
}

onnx::TensorProto int64Tensor(const std::string &name,
                              const std::vector<int64_t> &dims,
                              const std::vector<int64_t> &values) {
  return rawTensor(name, onnx::TensorProto_DataType_INT64, dims, values);
}

void setValueInfo(onnx::ValueInfoProto &vi, const std::string &name,
                  int elemType, const std::vector<int64_t> &dims,
                  const std::string &batchName) {
  vi.set_name(name);
  onnx::TypeProto_Tensor &t = *vi.mutable_type()->mutable_tensor_type();
  t.set_elem_type(elemType);
  onnx::TensorShapeProto &shape = *t.mutable_shape();
  for (int64_t d : dims) {
    onnx::TensorShapeProto_Dimension &dim = *shape.add_dim();
    if (d < 0)
      dim.set_dim_param(batchName);
    else
      dim.set_dim_value(d);
  }
}

} // namespace nn::onnxproto
