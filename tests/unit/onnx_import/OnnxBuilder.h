//===- OnnxBuilder.h - Small ONNX models built in C++ for tests -*- C++ -*-===//
///
/// \file
/// A ModelProto under construction: one float input (a -1 dimension is the
/// symbolic batch "N"), one output, float and int64 initializers, nodes
/// with attributes; `bytes()` serializes it for importOnnx.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/onnx/OnnxImportProto.h"

#include <cstring>
#include <string>
#include <vector>

namespace nn::testing {

class OnnxBuilder {
public:
  explicit OnnxBuilder(std::vector<int64_t> inputDims, int64_t opset = 17) {
    model.set_ir_version(8);
    model.set_producer_name("test");
    auto *o = model.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g = model.mutable_graph();
    g->set_name("g");
    auto *in = g->add_input();
    in->set_name("x");
    auto *t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : inputDims) {
      auto *dim = t->mutable_shape()->add_dim();
      if (d < 0)
        dim->set_dim_param("N");
      else
        dim->set_dim_value(d);
    }
  }

  void output(const std::string &name) { g->add_output()->set_name(name); }

  onnx::TensorProto *init(const std::string &name, std::vector<int64_t> dims,
                          const std::vector<float> &values) {
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                                values.size() * 4));
    return t;
  }

  /// An initializer of `dims` holding 0.1, 0.2, ... (or `v` everywhere).
  onnx::TensorProto *ramp(const std::string &name, std::vector<int64_t> dims,
                          float v = 0) {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      values[static_cast<size_t>(i)] = v != 0 ? v : 0.1f * (i + 1);
    return init(name, dims, values);
  }

  void ints(const std::string &name, const std::vector<int64_t> &values) {
    auto *t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values)
      t->add_int64_data(v);
  }

  onnx::NodeProto *node(const std::string &op,
                        const std::vector<std::string> &inputs,
                        const std::vector<std::string> &outputs,
                        const std::string &name = "") {
    auto *n = g->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + std::to_string(g->node_size()) : name);
    for (const auto &i : inputs)
      n->add_input(i);
    for (const auto &o : outputs)
      n->add_output(o);
    return n;
  }

  static void attr(onnx::NodeProto *n, const std::string &name, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attrF(onnx::NodeProto *n, const std::string &name, float v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attrs(onnx::NodeProto *n, const std::string &name,
                    const std::vector<int64_t> &v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }

  std::string bytes() const { return model.SerializeAsString(); }

  onnx::ModelProto model;
  onnx::GraphProto *g;
};

} // namespace nn::testing
