//===- OnnxImportExprs.cpp - ONNX nodes as plain .nn expressions ---------===//
///
/// \file
/// The nodes that are not layers: arithmetic, elementwise functions, shape
/// changes and softmax, each one `.nn` statement (or none: Identity and
/// Dropout only rename their input).
///
/// Algorithm: a binary op of two batched values of one rank gives their
/// broadcast shape; with an initializer, a one-element initializer is
/// written as a number and any other becomes a `param` (leading 1-dims
/// dropped: `[1,C,1,1]` is `[C,1,1]`) that must broadcast into the value's
/// per-sample shape, as nnc's trailing-axis rule requires. Flatten (axis 1)
/// and Reshape (a constant shape whose first entry keeps the batch: 0, -1
/// or the batch size; 0 copies an axis, -1 is inferred) become `flatten` or
/// `reshape`. Softmax over the last axis of [N,k] is `softmax`; at the
/// graph output it becomes the loss's prediction instead of a statement.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImportEmit.h"

#include <fmt/format.h>

namespace nn::onnximport {

namespace {

/// Right-aligned broadcast of `b` into `a`; false when it would grow `a`.
bool broadcastsInto(const std::vector<int64_t> &a,
                    const std::vector<int64_t> &b) {
  if (b.size() > a.size())
    return false;
  for (size_t i = 0; i < b.size(); ++i) {
    int64_t x = a[a.size() - 1 - i], y = b[b.size() - 1 - i];
    if (y != x && y != 1)
      return false;
  }
  return true;
}

const char *opSymbol(const std::string &op) {
  return op == "Add" ? "+" : op == "Sub" ? "-" : op == "Mul" ? "*" : "/";
}

int64_t product(const std::vector<int64_t> &d) {
  int64_t p = 1;
  for (int64_t v : d)
    p *= v;
  return p;
}

} // namespace

void Emitter::binary(const Node &n) {
  if (n.inputs.size() != 2)
    return problem(n, "expects two operands");
  const Value *a = value(n.inputs[0]), *b = value(n.inputs[1]);
  std::string sa, sb;
  std::vector<int64_t> dims;
  if (a && b) {
    if (a->dims.size() != b->dims.size() ||
        (!broadcastsInto(a->dims, b->dims) &&
         !broadcastsInto(b->dims, a->dims)))
      return problem(n, fmt::format("nnc combines batched values of one rank "
                                    "and broadcastable shapes, not {} and {}",
                                    dimsText(a->dims), dimsText(b->dims)));
    dims = broadcastsInto(a->dims, b->dims) ? a->dims : b->dims;
    sa = a->expr;
    sb = b->expr;
  } else if (a || b) {
    const Value *v = a ? a : b;
    const std::string &init = a ? n.inputs[1] : n.inputs[0];
    const Tensor *t = initializer(init);
    if (!t)
      return problem(n, "an operand is an int64 tensor");
    std::string c;
    // A constant (a Constant node, or an initializer named by the exporter,
    // "onnx::Mul_7") is a number; a named one-element initializer (nnc
    // export's `param b : f32`) stays a param.
    bool number = m.constants.count(init) || sanitize(init) != init;
    if (number && t->numel() == 1 &&
        t->rank() <= static_cast<int64_t>(v->dims.size()) + 1)
      c = t->data[0] < 0 ? "(" + numText(t->data[0]) + ")"
                         : numText(t->data[0]);
    else {
      std::vector<int64_t> s = t->shape;
      if (s.size() == v->dims.size() + 1 && s[0] == 1)
        s.erase(s.begin());
      if (!broadcastsInto(v->dims, s))
        return problem(n, fmt::format("the initializer '{}' {} does not "
                                      "broadcast into the value's shape {} "
                                      "per sample",
                                      init, dimsText(t->shape),
                                      dimsText(v->dims)));
      c = paramFor(init, *t);
    }
    dims = v->dims;
    sa = a ? a->expr : c;
    sb = a ? c : b->expr;
  } else {
    return problem(n, "computes on initializers only (export with "
                      "do_constant_folding=True)");
  }
  std::string base = n.op == "Add"   ? "add"
                     : n.op == "Sub" ? "sub"
                     : n.op == "Mul" ? "mul"
                                     : "div";
  std::string name = valueName(n.outputs[0], base);
  statement(name, fmt::format("{} {} {}", sa, opSymbol(n.op), sb));
  bind(n.outputs[0], name, dims);
}

void Emitter::unary(const Node &n) {
  const Value *x = n.inputs.empty() ? nullptr : value(n.inputs[0]);
  if (!x)
    return problem(n, "its input must be computed from the graph input");
  if (n.op == "Identity" || n.op == "Dropout") {
    if (n.outputs.size() > 1 && uses.count(n.outputs[1]))
      return problem(n, "its mask output is read");
    return bind(n.outputs[0], x->expr, x->dims);
  }
  static const std::map<std::string, std::string> fns = {
      {"Relu", "relu"},
      {"Sigmoid", "sigmoid"},
      {"Tanh", "tanh"},
      {"Exp", "exp"},
      {"Log", "log"},
      {"Abs", "abs"},
      {"Sqrt", "sqrt"},
      {"Erf", "erf"},
      {"Softplus", "softplus"},
      {"Softsign", "softsign"},
      {"LeakyRelu", "leaky_relu"}};
  if (n.op == "Sigmoid" && n.outputs[0] == m.output &&
      uses[n.outputs[0]] == 1 &&
      (x->dims.empty() || (x->dims.size() == 1 && x->dims[0] == 1))) {
    sigmoidPred = true; // the loss's prediction: bce(sigmoid(z), y)
    predExpr = x->expr;
    predDims = x->dims;
    return;
  }
  std::string text;
  if (n.op == "Neg") {
    text = "-" + x->expr;
  } else if (n.op == "LeakyRelu") {
    double alpha = n.attrFloat("alpha", 0.01);
    if (!(alpha >= 0))
      return problem(n, "nnc needs a leaky_relu slope >= 0");
    text = fmt::format("leaky_relu({}, {})", x->expr, numText(alpha));
  } else {
    auto it = fns.find(n.op);
    if (it == fns.end())
      return problem(n, "not imported");
    text = it->second + "(" + x->expr + ")";
  }
  std::string base = n.op == "Neg" ? "neg" : fns.at(n.op);
  std::string name = valueName(n.outputs[0], base);
  statement(name, text);
  bind(n.outputs[0], name, x->dims);
}

void Emitter::flatten(const Node &n) {
  const Value *x = value(n.inputs[0]);
  int64_t rank = x ? static_cast<int64_t>(x->dims.size()) + 1 : 0;
  int64_t axis = n.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  if (!x || axis != 1 || x->dims.empty())
    return problem(n, "nnc flattens each sample (axis = 1)");
  if (x->dims.size() == 1)
    return bind(n.outputs[0], x->expr, x->dims);
  std::string name = valueName(n.outputs[0], "flat");
  statement(name, "flatten(" + x->expr + ")");
  bind(n.outputs[0], name, {product(x->dims)});
}

void Emitter::reshape(const Node &n) {
  const Value *x = value(n.inputs[0]);
  auto shape = n.inputs.size() == 2 ? m.ints.find(n.inputs[1]) : m.ints.end();
  if (!x || shape == m.ints.end() || shape->second.empty())
    return problem(n, "nnc imports Reshape of a value to a constant shape");
  const std::vector<int64_t> &s = shape->second;
  if (n.attrInt("allowzero", 0) != 0)
    return problem(n, "allowzero = 1 is not imported");
  if (s[0] != 0 && s[0] != -1 && !(m.batch > 0 && s[0] == m.batch))
    return problem(n, fmt::format("the shape {} must keep the batch axis "
                                  "first (0, -1 or the batch size)",
                                  dimsText(s)));
  std::vector<int64_t> out;
  int64_t infer = -1, known = 1;
  for (size_t i = 1; i < s.size(); ++i) {
    int64_t d = s[i];
    if (d == 0 && i - 1 < x->dims.size())
      d = x->dims[i - 1];
    if (d == -1 && infer < 0 && s[0] != -1)
      infer = static_cast<int64_t>(out.size());
    else if (d < 1 || d > kMaxDim)
      return problem(n, fmt::format("bad shape {}", dimsText(s)));
    else
      known *= d;
    out.push_back(d);
    if (known > kMaxElements)
      return problem(n, fmt::format("bad shape {}", dimsText(s)));
  }
  int64_t total = product(x->dims);
  if (infer >= 0 && known > 0 && total % known == 0)
    out[static_cast<size_t>(infer)] = total / known;
  if (product(out) != total || (infer >= 0 && total % known != 0))
    return problem(n, fmt::format("cannot reshape {} values per sample to {}",
                                  total, dimsText(s)));
  if (out == x->dims)
    return bind(n.outputs[0], x->expr, x->dims);
  std::string name =
      valueName(n.outputs[0], out.size() == 1 ? "flat" : "reshape");
  statement(name, out.size() == 1
                      ? "flatten(" + x->expr + ")"
                      : fmt::format("reshape({}, {})", x->expr, dimsText(out)));
  bind(n.outputs[0], name, out);
}

void Emitter::softmax(const Node &n) {
  const Value *x = value(n.inputs[0]);
  int64_t axis = n.attrInt("axis", m.opset >= 13 ? -1 : 1);
  if (!x || x->dims.size() != 1 || (axis != -1 && axis != 1))
    return problem(n, "nnc's softmax takes scores [N,k] over their last axis");
  if (n.outputs[0] == m.output && uses[n.outputs[0]] == 1) {
    softmaxPred = true;
    predExpr = x->expr;
    predDims = x->dims;
    return;
  }
  std::string name = valueName(n.outputs[0], "softmax");
  statement(name, "softmax(" + x->expr + ")");
  bind(n.outputs[0], name, x->dims);
}

} // namespace nn::onnximport
