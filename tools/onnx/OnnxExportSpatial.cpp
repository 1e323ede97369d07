//===- OnnxExportSpatial.cpp - Convolution, pooling, batch norm as ONNX ---===//
///
/// \file
/// Algorithm: conv2d -> Conv (then its activation, when fusion gave it one);
/// maxpool2d -> MaxPool; avgpool2d -> AveragePool (count_include_pad = 1,
/// nnc's rule), or GlobalAveragePool when its window is the whole image;
/// batch_normalize followed by its channel_affine (batch_norm's weight and
/// bias) -> one BatchNormalization on the running statistics (inference
/// mode, the same math as passes/EvalForm.cpp's channel_affine); a lone
/// batch_normalize -> BatchNormalization with scale 1 and bias 0; a lone
/// channel_affine -> Mul and Add with s and t unsqueezed to [C, 1, ...];
/// channel_mean and channel_sum -> ReduceMean / ReduceSum over every axis
/// but 1. Windows map one to one: ONNX pads are [top, left, bottom, right].
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxExporter.h"

namespace nn {

using namespace onnxproto;

namespace {

/// kernel_shape, strides, pads and (when `dilations`) dilations of `w`.
void setWindow(onnx::NodeProto &n, const Window &w, bool dilations) {
  setInts(n, "kernel_shape", {w.kernel[0], w.kernel[1]});
  setInts(n, "strides", {w.stride[0], w.stride[1]});
  setInts(n, "pads",
          {w.padding[0], w.padding[1], w.padding[0], w.padding[1]});
  if (dilations)
    setInts(n, "dilations", {w.dilation[0], w.dilation[1]});
}

/// Every axis of a rank-`rank` tensor but 1 (the channels).
std::vector<int64_t> nonChannelAxes(int64_t rank) {
  std::vector<int64_t> axes = {0};
  for (int64_t a = 2; a < rank; ++a)
    axes.push_back(a);
  return axes;
}

bool undilated(const Window &w) {
  return w.dilation[0] == 1 && w.dilation[1] == 1;
}

} // namespace

void OnnxExporter::emitConv(NodeId id) {
  const Node &n = g[id];
  std::vector<std::string> in;
  for (NodeId x : n.inputs)
    in.push_back(val(x));
  bool act = n.act != Activation::None;
  std::string y = act ? fresh(names[id] + "/conv") : names[id];
  onnx::NodeProto &conv = node("Conv", in, y);
  setWindow(conv, n.win, true);
  setInt(conv, "group", n.win.groups);
  if (act)
    elementwise(opOf(activationOp(n.act)), {y}, names[id], n.param);
}

void OnnxExporter::emitPool(NodeId id) {
  const Node &n = g[id];
  const TensorType &x = g[n.inputs[0]].type;
  const Window &w = n.win;
  if (n.op == OpKind::MaxPool2d) {
    setWindow(node("MaxPool", {val(n.inputs[0])}, names[id]), w,
              !undilated(w));
    return;
  }
  if (!undilated(w))
    return unsupported(id, "AveragePool has no dilations before opset 19");
  if (x.rank() == 4 && w.kernel[0] == x.dims[2] && w.kernel[1] == x.dims[3] &&
      w.padding[0] == 0 && w.padding[1] == 0) {
    node("GlobalAveragePool", {val(n.inputs[0])}, names[id]);
    return;
  }
  onnx::NodeProto &p = node("AveragePool", {val(n.inputs[0])}, names[id]);
  setWindow(p, w, false);
  setInt(p, "count_include_pad", 1);
}

void OnnxExporter::emitBatchNorm(NodeId bn, NodeId affine) {
  const Node &b = g[bn];
  const std::string &y = names[affine >= 0 ? affine : bn];
  std::string scale, shift;
  if (affine >= 0) {
    scale = val(g[affine].inputs[1]);
    shift = val(g[affine].inputs[2]);
  } else {
    int64_t c = b.type.dims.at(1);
    scale = constFloat(y + "/scale", {c}, std::vector<float>(c, 1.0f));
    shift = constFloat(y + "/bias", {c}, std::vector<float>(c, 0.0f));
  }
  onnx::NodeProto &n =
      node("BatchNormalization",
           {val(b.inputs[0]), scale, shift, val(b.inputs[1]), val(b.inputs[2])},
           y);
  setFloat(n, "epsilon", static_cast<float>(b.param));
}

void OnnxExporter::emitChannelAffine(NodeId id) {
  const Node &n = g[id];
  if (auto it = batchNormOf.find(id); it != batchNormOf.end())
    return emitBatchNorm(it->second, id);
  const std::string &y = names[id];
  int64_t rank = g[n.inputs[0]].type.rank();
  std::vector<int64_t> trailing; // [C] -> [C, 1, ...] against [N, C, ...]
  for (int64_t a = 1; a + 1 < rank; ++a)
    trailing.push_back(a);
  auto perChannel = [&](NodeId v, const char *what) {
    if (trailing.empty())
      return val(v);
    std::string u = fresh(y + "/" + what);
    node("Unsqueeze", {val(v), constInts(y + "/axes", trailing)}, u);
    return u;
  };
  bool shift = n.inputs.size() == 3;
  std::string scaled = shift ? fresh(y + "/scaled") : y;
  node("Mul", {val(n.inputs[0]), perChannel(n.inputs[1], "scale")}, scaled);
  if (shift)
    node("Add", {scaled, perChannel(n.inputs[2], "shift")}, y);
}

void OnnxExporter::emitSpatial(NodeId id) {
  const Node &n = g[id];
  int64_t rank = n.inputs.empty() ? 0 : g[n.inputs[0]].type.rank();
  const char *grad = "a gradient is not part of the prediction";
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d:
    return emitConv(id);
  case SpatialOp::MaxPool2d:
  case SpatialOp::AvgPool2d:
    return emitPool(id);
  case SpatialOp::ChannelAffine:
    return emitChannelAffine(id);
  case SpatialOp::BatchNormalize:
    return emitBatchNorm(id, -1);
  case SpatialOp::ChannelMean: {
    onnx::NodeProto &r = node("ReduceMean", {val(n.inputs[0])}, names[id]);
    setInts(r, "axes", nonChannelAxes(rank));
    setInt(r, "keepdims", 0);
    return;
  }
  case SpatialOp::ChannelSum:
    if (n.inputs.size() != 1)
      return unsupported(id, grad);
    setInt(node("ReduceSum",
                {val(n.inputs[0]),
                 constInts(names[id] + "/axes", nonChannelAxes(rank))},
                names[id]),
           "keepdims", 0);
    return;
  case SpatialOp::ChannelVar:
    return unsupported(id, "batch statistics are not part of the prediction");
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::BatchNormalizeGrad:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad:
    return unsupported(id, grad);
  }
}

} // namespace nn
