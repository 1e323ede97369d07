//===- OnnxImportLayers.cpp - ONNX layer patterns to .nn layers ----------===//
///
/// \file
/// The patterns that become `.nn` layers, with their weights in PyTorch's
/// layout under the layer's name.
///
/// Algorithm: each handler checks its node's operands (a batched value of
/// the right rank, initializers of the right shapes) and attributes against
/// what the `.nn` layer can say, then writes one statement:
///   Gemm(x, W, C) [+ act]            -> dense(x, n, act)   (W as [out, in])
///   MatMul(x, W) + Add(b) [+ act]    -> dense(x, n, act)   (W transposed)
///   MatMul(x, W) alone               -> x @ w, a plain param
///   Conv(x, W, B) [+ act]            -> conv2d(x, c, kernel = ..., act)
///   BatchNormalization (eval)        -> batch_norm(x, eps = ..)
///   LayerNormalization (last axis)   -> layer_norm(x, eps = ..)  (scale as
///                                       .weight, B or zeros as .bias)
///   MaxPool / AveragePool            -> maxpool2d / avgpool2d
///   GlobalAveragePool [+ Flatten]    -> global_avgpool(x) [reshaped back]
/// The activation a layer takes is the node that alone reads its output
/// (Relu, Sigmoid, Tanh, Softsign, Softplus, LeakyRelu with slope >= 0).
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImportEmit.h"

#include "runtime/WeightsFile.h"

#include <fmt/format.h>

#include <cmath>

namespace nn::onnximport {

namespace {

/// Symmetric 2-D pads [top, left, bottom, right] as {h, w}; false if not.
bool symmetricPads(const std::vector<int64_t> &pads, int64_t &ph, int64_t &pw) {
  if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3] ||
      pads[0] < 0 || pads[1] < 0)
    return false;
  ph = pads[0];
  pw = pads[1];
  return true;
}

/// The output size of a window over `in` (conv and pooling), < 1 if none.
int64_t windowOut(int64_t in, int64_t pad, int64_t dil, int64_t k, int64_t s) {
  return (in + 2 * pad - dil * (k - 1) - 1) / s + 1;
}

std::string actSuffix(const std::string &act) {
  return act.empty() ? "" : ", " + act;
}

/// "fc1.weight" when the initializer has that name, else
/// "fc1.weight <- 'onnx::Gemm_7'".
std::string fromText(const std::string &nn, const std::string &init) {
  return nn == init ? nn : fmt::format("{} <- '{}'", nn, init);
}

/// A LayerNormalization scale or bias: an initializer of `d` values ([d],
/// or with leading 1-dims), else null.
const Tensor *rowOf(const Emitter &e, const Node &n, size_t i, int64_t d) {
  const Tensor *t =
      n.inputs.size() > i && !n.inputs[i].empty() ? e.initializer(n.inputs[i])
                                                  : nullptr;
  if (!t || t->rank() < 1 || t->shape.back() != d || t->numel() != d)
    return nullptr;
  return t;
}

} // namespace

void Emitter::denseLayer(const Node &n, const Value &x, Tensor w,
                         const Tensor *b, const std::string &wName,
                         const std::string &bName, const std::string &out) {
  int64_t units = w.shape[0];
  std::string act;
  const Node *a = takeActivation(out, act, units);
  std::string name = layerName(wName, "fc");
  Tensor bias({units});
  if (b)
    bias.data = b->data;
  addWeight(name + ".weight", std::move(w), wName);
  addWeight(name + ".bias", std::move(bias), bName);
  std::string comment =
      fmt::format("{}: {}, {}", n.label(), fromText(name + ".weight", wName),
                  b ? fromText(name + ".bias", bName)
                    : name + ".bias <- zeros (the ONNX layer has no bias)");
  statement(name, fmt::format("dense({}, {}{})", x.expr, units, actSuffix(act)),
            comment);
  bind(a ? a->outputs[0] : out, name, {units});
}

void Emitter::gemm(const Node &n) {
  const Value *x = value(n.inputs[0]);
  const Tensor *w = n.inputs.size() > 1 ? initializer(n.inputs[1]) : nullptr;
  const Tensor *c = n.inputs.size() > 2 && !n.inputs[2].empty()
                        ? initializer(n.inputs[2])
                        : nullptr;
  if (!x || x->dims.size() != 1 || !w || w->rank() != 2)
    return problem(n, "nnc imports Gemm of a batch of vectors [N,k] by an "
                      "initializer matrix");
  if (n.attrInt("transA", 0) != 0 || n.attrFloat("alpha", 1) != 1 ||
      (c && n.attrFloat("beta", 1) != 1))
    return problem(n, "nnc imports Gemm with transA = 0, alpha = 1, beta = 1");
  Tensor wt = n.attrInt("transB", 0) ? *w : transposed(*w);
  if (wt.shape[1] != x->dims[0])
    return problem(n, fmt::format("the weight {} does not take {} inputs",
                                  dimsText(w->shape), x->dims[0]));
  int64_t units = wt.shape[0];
  if (n.inputs.size() > 2 && !n.inputs[2].empty() &&
      (!c || c->numel() != units ||
       !(c->rank() == 1 || (c->rank() == 2 && c->shape[0] == 1))))
    return problem(n, fmt::format("the bias C must be an initializer of {} "
                                  "values",
                                  units));
  denseLayer(n, *x, std::move(wt), c, n.inputs[1], c ? n.inputs[2] : "",
             n.outputs[0]);
}

void Emitter::matmul(const Node &n) {
  const Value *x = value(n.inputs[0]);
  const Tensor *w = initializer(n.inputs[1]);
  if (!x || !w || x->dims.size() != 1 || w->rank() < 1 || w->rank() > 2 ||
      w->shape[0] != x->dims[0])
    return problem(n, "nnc imports MatMul of a batch of vectors [N,k] by an "
                      "initializer [k,n] or [k]");
  const Node *add = onlyUser(n.outputs[0]);
  if (w->rank() == 2 && add && add->op == "Add" && add->inputs.size() == 2) {
    const std::string &other =
        add->inputs[0] == n.outputs[0] ? add->inputs[1] : add->inputs[0];
    const Tensor *b = initializer(other);
    if (b && b->numel() == w->shape[1] &&
        (b->rank() == 1 || (b->rank() == 2 && b->shape[0] == 1))) {
      absorbed.insert(add);
      return denseLayer(n, *x, transposed(*w), b, n.inputs[1], other,
                        add->outputs[0]);
    }
  }
  std::string p = paramFor(n.inputs[1], *w);
  std::string name = valueName(n.outputs[0], "mm");
  statement(name, x->expr + " @ " + p);
  bind(n.outputs[0], name,
       w->rank() == 2 ? std::vector<int64_t>{w->shape[1]}
                      : std::vector<int64_t>{});
}

void Emitter::conv(const Node &n) {
  const Value *x = value(n.inputs[0]);
  const Tensor *w = n.inputs.size() > 1 ? initializer(n.inputs[1]) : nullptr;
  bool hasBias = n.inputs.size() > 2 && !n.inputs[2].empty();
  const Tensor *b = hasBias ? initializer(n.inputs[2]) : nullptr;
  if (!x || x->dims.size() != 3 || !w || w->rank() != 4)
    return problem(n, "nnc imports 2-D convolutions of images [N,C,H,W] by "
                      "an initializer kernel");
  int64_t g = n.attrInt("group", 1), outC = w->shape[0];
  int64_t kh = w->shape[2], kw = w->shape[3], ph = 0, pw = 0;
  auto st = n.attrInts("strides", {1, 1}), dl = n.attrInts("dilations", {1, 1});
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (g < 1 || w->shape[1] * g != x->dims[0] || outC % g != 0)
    return problem(n, fmt::format("the kernel {} with {} groups does not fit "
                                  "{} input channels",
                                  dimsText(w->shape), g, x->dims[0]));
  if (hasBias && (!b || b->numel() != outC))
    return problem(n, fmt::format("the bias must be an initializer of {} "
                                  "values",
                                  outC));
  if ((autoPad != "NOTSET" && autoPad != "VALID" && !autoPad.empty()) ||
      !symmetricPads(n.attrInts("pads", {0, 0, 0, 0}), ph, pw) ||
      (autoPad == "VALID" && (ph || pw)))
    return problem(n, "nnc imports the same padding on both sides (auto_pad "
                      "NOTSET or VALID)");
  if (n.attrInts("kernel_shape", {kh, kw}) != std::vector<int64_t>{kh, kw} ||
      st.size() != 2 || dl.size() != 2 || st[0] < 1 || st[1] < 1 || dl[0] < 1 ||
      dl[1] < 1)
    return problem(n, "bad kernel_shape, strides or dilations");
  int64_t ho = windowOut(x->dims[1], ph, dl[0], kh, st[0]);
  int64_t wo = windowOut(x->dims[2], pw, dl[1], kw, st[1]);
  if (ho < 1 || wo < 1)
    return problem(n, "the kernel is larger than its padded input");
  std::string act;
  const Node *a = takeActivation(n.outputs[0], act);
  std::string name = layerName(n.inputs[1], "conv");
  std::string text = fmt::format("conv2d({}, {}, kernel = {}", x->expr, outC,
                                 pairText(kh, kw));
  if (st[0] != 1 || st[1] != 1)
    text += ", stride = " + pairText(st[0], st[1]);
  if (ph || pw)
    text += ", padding = " + pairText(ph, pw);
  if (dl[0] != 1 || dl[1] != 1)
    text += ", dilation = " + pairText(dl[0], dl[1]);
  if (g != 1)
    text += fmt::format(", groups = {}", g);
  if (!b)
    text += ", bias = false";
  addWeight(name + ".weight", *w, n.inputs[1]);
  if (b) {
    Tensor bias({outC});
    bias.data = b->data;
    addWeight(name + ".bias", std::move(bias), n.inputs[2]);
  }
  statement(name, text + actSuffix(act) + ")",
            fmt::format("{}: {}{}", n.label(),
                        fromText(name + ".weight", n.inputs[1]),
                        b ? ", " + fromText(name + ".bias", n.inputs[2]) : ""));
  bind(a ? a->outputs[0] : n.outputs[0], name, {outC, ho, wo});
}

void Emitter::batchNorm(const Node &n) {
  const Value *x = value(n.inputs[0]);
  if (!x || (x->dims.size() != 1 && x->dims.size() != 3) ||
      n.inputs.size() != 5)
    return problem(n, "nnc imports batch norm of [N,C] or [N,C,H,W]");
  int64_t c = x->dims[0];
  const char *parts[] = {"weight", "bias", "running_mean", "running_var"};
  for (size_t i = 1; i < 5; ++i) {
    const Tensor *t = initializer(n.inputs[i]);
    if (!t || t->rank() != 1 || t->shape[0] != c)
      return problem(n, fmt::format("its {} must be an initializer of {} "
                                    "values",
                                    parts[i - 1], c));
  }
  if (n.attrInt("training_mode", 0) != 0)
    return problem(n, "training_mode = 1: export the model in eval mode "
                      "(model.eval())");
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty() && uses.count(n.outputs[i]))
      return problem(n, "its running statistics outputs are read");
  double eps = n.attrFloat("epsilon", 1e-5);
  double mom =
      1 - std::strtod(numText(n.attrFloat("momentum", 0.9)).c_str(), nullptr);
  if (!(eps > 0) || !(mom >= 0 && mom <= 1))
    return problem(n, "epsilon must be positive and momentum in [0, 1]");
  std::string name = layerName(n.inputs[1], "bn");
  std::string comment = n.label() + ":";
  for (size_t i = 1; i < 5; ++i) {
    std::string w = name + "." + parts[i - 1];
    addWeight(w, *initializer(n.inputs[i]), n.inputs[i]);
    comment += " " + fromText(w, n.inputs[i]) + (i < 4 ? "," : "");
  }
  addWeight(name + ".num_batches_tracked", Tensor(std::vector<int64_t>{}), "");
  std::string text = "batch_norm(" + x->expr;
  if (numText(eps) != "1e-05")
    text += ", eps = " + numText(eps);
  if (numText(mom) != "0.1")
    text += ", momentum = " + numText(mom);
  statement(name, text + ")", comment);
  bind(n.outputs[0], name, x->dims);
}

void Emitter::layerNorm(const Node &n) {
  const Value *x = value(n.inputs[0]);
  if (!x || x->dims.empty())
    return problem(n, "nnc imports layer norm of a batch of vectors [N,D] "
                      "or [N,...,D]");
  int64_t rank = static_cast<int64_t>(x->dims.size()) + 1;
  int64_t axis = n.attrInt("axis", -1);
  if (axis != -1 && axis != rank - 1)
    return problem(n, fmt::format("axis = {}: nnc's layer_norm normalizes "
                                  "over the last axis only (axis = -1 or {})",
                                  axis, rank - 1));
  int64_t d = x->dims.back();
  if (n.inputs.size() < 2 || n.inputs[1].empty())
    return problem(n, "it has no scale; nnc's layer_norm has a weight (the "
                      "ONNX Scale input is required)");
  const Tensor *scale = rowOf(*this, n, 1, d);
  bool hasBias = n.inputs.size() > 2 && !n.inputs[2].empty();
  const Tensor *bias = hasBias ? rowOf(*this, n, 2, d) : nullptr;
  if (!scale || (hasBias && !bias))
    return problem(n, fmt::format("its {} must be an initializer of {} values",
                                  scale ? "bias B" : "scale", d));
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty() && uses.count(n.outputs[i]))
      return problem(n, "its Mean or InvStdDev output is read");
  double eps = n.attrFloat("epsilon", 1e-5);
  if (!(eps > 0) || !std::isfinite(static_cast<float>(eps)))
    return problem(n, "epsilon must be a positive number");
  std::string name = layerName(n.inputs[1], "ln");
  Tensor w({d}), b({d});
  w.data = scale->data;
  if (bias)
    b.data = bias->data;
  addWeight(name + ".weight", std::move(w), n.inputs[1]);
  addWeight(name + ".bias", std::move(b), hasBias ? n.inputs[2] : "");
  std::string comment =
      fmt::format("{}: {}, {}", n.label(),
                  fromText(name + ".weight", n.inputs[1]),
                  bias ? fromText(name + ".bias", n.inputs[2])
                       : name + ".bias <- zeros (the ONNX node has no B)");
  std::string text = "layer_norm(" + x->expr;
  if (numText(eps) != "1e-05")
    text += ", eps = " + numText(eps);
  statement(name, text + ")", comment);
  bind(n.outputs[0], name, x->dims);
}

void Emitter::pool(const Node &n) {
  const Value *x = value(n.inputs[0]);
  auto k = n.attrInts("kernel_shape", {});
  auto st = n.attrInts("strides", {1, 1});
  int64_t ph = 0, pw = 0;
  bool max = n.op == "MaxPool";
  if (!x || x->dims.size() != 3 || k.size() != 2 || st.size() != 2 ||
      k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1)
    return problem(n, "nnc imports 2-D pooling of images [N,C,H,W]");
  if (!symmetricPads(n.attrInts("pads", {0, 0, 0, 0}), ph, pw) ||
      2 * ph > k[0] || 2 * pw > k[1] ||
      !(n.attrString("auto_pad", "NOTSET") == "NOTSET" ||
        n.attrString("auto_pad", "") == "VALID"))
    return problem(n, "nnc pools with the same padding on both sides, at "
                      "most half the window");
  if (n.attrInt("ceil_mode", 0) != 0 || n.attrInt("storage_order", 0) != 0 ||
      n.attrInts("dilations", {1, 1}) != std::vector<int64_t>{1, 1} ||
      (n.outputs.size() > 1 && uses.count(n.outputs[1])))
    return problem(n, "nnc pools without ceil_mode, dilations or indices");
  if (!max && (ph || pw) && n.attrInt("count_include_pad", 0) == 0)
    return problem(n, "nnc's average pooling counts the padding "
                      "(count_include_pad = 1)");
  int64_t ho = windowOut(x->dims[1], ph, 1, k[0], st[0]);
  int64_t wo = windowOut(x->dims[2], pw, 1, k[1], st[1]);
  if (ho < 1 || wo < 1)
    return problem(n, "the window is larger than its padded input");
  std::string text = fmt::format("{}({}, {}", max ? "maxpool2d" : "avgpool2d",
                                 x->expr, pairText(k[0], k[1]));
  if (st != k)
    text += ", stride = " + pairText(st[0], st[1]);
  if (ph || pw)
    text += ", padding = " + pairText(ph, pw);
  std::string name = valueName(n.outputs[0], "pool");
  statement(name, text + ")");
  bind(n.outputs[0], name, {x->dims[0], ho, wo});
}

void Emitter::globalPool(const Node &n) {
  const Value *x = value(n.inputs[0]);
  if (!x || x->dims.size() != 3)
    return problem(n, "nnc imports global pooling of images [N,C,H,W]");
  int64_t c = x->dims[0];
  const Node *f = onlyUser(n.outputs[0]);
  bool flat = f && f->op == "Flatten" && f->attrInt("axis", 1) == 1;
  std::string name = valueName(flat ? f->outputs[0] : n.outputs[0], "gap");
  statement(name, "global_avgpool(" + x->expr + ")");
  if (flat) {
    absorbed.insert(f);
    return bind(f->outputs[0], name, {c});
  }
  std::string back = fresh("gap", true);
  statement(back, fmt::format("reshape({}, [{}, 1, 1])", name, c));
  bind(n.outputs[0], back, {c, 1, 1});
}

} // namespace nn::onnximport
