//===- OnnxProtoBuild.h - Small helpers that fill ONNX protos ---*- C++ -*-===//
///
/// \file
/// Nodes, attributes, tensors and value infos of an onnx::GraphProto, one
/// call each. Private to tools/onnx (it includes the generated protobuf
/// header, which no header outside tools/onnx may).
///
//===----------------------------------------------------------------------===//
#pragma once

#include <onnx/onnx_pb.h> // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstdint>
#include <string>
#include <vector>

namespace nn::onnxproto {

/// Appends node `op` (default domain) named `name` to `g`.
onnx::NodeProto &addNode(onnx::GraphProto &g, const std::string &op,
                         const std::vector<std::string> &inputs,
                         const std::vector<std::string> &outputs,
                         const std::string &name);

void setInt(onnx::NodeProto &n, const std::string &attr, int64_t v);
void setInts(onnx::NodeProto &n, const std::string &attr,
             const std::vector<int64_t> &v);
void setFloat(onnx::NodeProto &n, const std::string &attr, float v);

/// A FLOAT tensor named `name` of shape `dims` holding `values` (row-major,
/// stored as little-endian raw_data).
onnx::TensorProto floatTensor(const std::string &name,
                              const std::vector<int64_t> &dims,
                              const std::vector<float> &values);
/// An INT64 tensor (shapes, axes) of shape `dims`.
onnx::TensorProto int64Tensor(const std::string &name,
                              const std::vector<int64_t> &dims,
                              const std::vector<int64_t> &values);

/// Fills `vi` as a tensor of element type `elemType` (a
/// onnx::TensorProto_DataType) and dims `dims`, where a negative dim (nnc's
/// kBatch) is the symbolic dimension `batchName`.
void setValueInfo(onnx::ValueInfoProto &vi, const std::string &name,
                  int elemType, const std::vector<int64_t> &dims,
                  const std::string &batchName);

} // namespace nn::onnxproto
