//===- OnnxImportEmit.cpp - The walk over the nodes and its helpers ------===//
///
/// \file
/// Drives the translation of an ordered ONNX graph into `.nn` statements.
///
/// Algorithm: count each value's readers (the graph output counts as one).
/// Bind the graph input to its `.nn` name. Visit the nodes in order; each
/// kind has one handler (a layer pattern may absorb the nodes after it: an
/// activation, the Add after a MatMul, the Flatten after a global pool).
/// A handler that cannot translate its node records a problem and binds
/// nothing, so nodes that read its outputs are skipped without a second
/// message. At the end the output decides the loss, and every problem is
/// reported in one error.
///
//===----------------------------------------------------------------------===//

#include "tools/onnx/OnnxImportEmit.h"

#include "ir/Support.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace nn::onnximport {

std::string numText(double v) {
  float f = static_cast<float>(v);
  if (std::isfinite(f) && f == std::nearbyint(f) && std::fabs(f) < 1e7f)
    return fmt::format("{}", static_cast<int64_t>(f));
  for (int p = 6; p <= 9; ++p) {
    std::string s = fmt::format("{:.{}g}", f, p);
    if (std::strtof(s.c_str(), nullptr) == f)
      return s;
  }
  return fmt::format("{:.9g}", f);
}

std::string sanitize(const std::string &s) {
  std::string out;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    char w = ok && static_cast<unsigned char>(c) < 128 ? c : '_';
    if (w == '_' && (out.empty() || out.back() == '_'))
      continue;
    out += w;
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0])))
    out = "v" + out;
  return out.size() > 64 ? out.substr(0, 64) : out;
}

std::string pairText(int64_t a, int64_t b) {
  return a == b ? std::to_string(a) : fmt::format("[{}, {}]", a, b);
}

std::string dimsText(const std::vector<int64_t> &dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

namespace {

const std::set<std::string> &reservedNames() {
  // clang-format off
  static const std::set<std::string> r = {
      "model", "input", "label", "param", "loss", "train", "pred", "dense",
      "layer_norm", "conv2d", "batch_norm", "maxpool2d", "avgpool2d",
      "flatten", "global_avgpool", "reshape", "softmax", "sum", "mean",
      "sigmoid", "relu", "tanh", "exp", "log", "abs", "softsign", "gelu",
      "silu", "softplus", "leaky_relu", "sqrt", "erf", "dropout", "bce",
      "bce_logits", "cross_entropy", "softmax_cross_entropy", "mse", "zeros",
      "constant", "uniform", "normal", "xavier", "he", "true", "false", "idx",
      "csv", "none", "N", "f32", "i32", "binary", "class", "real"};
  // clang-format on
  return r;
}

} // namespace

Emitter::Emitter(const Model &model) : m(model) {
  for (const Node &n : m.nodes)
    for (const std::string &in : n.inputs)
      if (!in.empty()) {
        ++uses[in];
        lastUser[in] = &n;
      }
  ++uses[m.output];
}

std::string Emitter::fresh(const std::string &base, bool numbered) {
  auto free = [&](const std::string &s) {
    return !s.empty() && !taken.count(s) && !reservedNames().count(s);
  };
  if (!numbered && free(base)) {
    taken.insert(base);
    return base;
  }
  for (int i = 1;; ++i) {
    std::string s = base + std::to_string(i);
    if (free(s)) {
      taken.insert(s);
      return s;
    }
  }
}

std::string Emitter::valueName(const std::string &onnx,
                               const std::string &base) {
  if (sanitize(onnx) == onnx && !taken.count(onnx) &&
      !reservedNames().count(onnx))
    return fresh(onnx, false);
  return fresh(base, true);
}

std::string Emitter::layerName(const std::string &weightInit,
                               const std::string &kind) {
  const std::string suffix = ".weight";
  if (weightInit.size() > suffix.size() &&
      weightInit.compare(weightInit.size() - suffix.size(), suffix.size(),
                         suffix) == 0) {
    std::string s =
        sanitize(weightInit.substr(0, weightInit.size() - suffix.size()));
    if (!s.empty() && !taken.count(s) && !reservedNames().count(s) &&
        s.rfind("onnx", 0) != 0)
      return fresh(s, false);
  }
  return fresh(kind, true);
}

void Emitter::problem(const Node &n, const std::string &why) {
  problems.push_back(fmt::format("  {}: {}", n.label(), why));
}

const Value *Emitter::value(const std::string &name) const {
  auto it = vals.find(name);
  return it == vals.end() ? nullptr : &it->second;
}

const Tensor *Emitter::initializer(const std::string &name) const {
  auto it = m.floats.find(name);
  return it == m.floats.end() ? nullptr : &it->second;
}

bool Emitter::blocked(const Node &n) const {
  for (const std::string &in : n.inputs)
    if (!in.empty() && !vals.count(in) && !m.floats.count(in) &&
        !m.ints.count(in))
      return true;
  return false;
}

const Node *Emitter::onlyUser(const std::string &v) const {
  auto u = uses.find(v);
  if (v == m.output || u == uses.end() || u->second != 1)
    return nullptr;
  auto it = lastUser.find(v);
  return it == lastUser.end() ? nullptr : it->second;
}

const Node *Emitter::takeActivation(const std::string &v, std::string &act,
                                    int64_t width) {
  const Node *a = onlyUser(v);
  if (!a || a->inputs.size() != 1 || a->outputs.size() != 1)
    return nullptr;
  static const std::map<std::string, std::string> names = {
      {"Relu", "relu"},         {"Sigmoid", "sigmoid"},
      {"Tanh", "tanh"},         {"Softsign", "softsign"},
      {"Softplus", "softplus"}, {"LeakyRelu", "leaky_relu"}};
  auto it = names.find(a->op);
  if (it == names.end() ||
      (a->op == "Sigmoid" && a->outputs[0] == m.output && width == 1))
    return nullptr; // the loss's prediction: bce(sigmoid(z), y)
  act = it->second;
  if (a->op == "LeakyRelu") {
    double alpha = a->attrFloat("alpha", 0.01);
    if (!(alpha >= 0))
      return nullptr; // the plain expression reports it
    if (numText(alpha) != "0.01")
      act += "(" + numText(alpha) + ")";
  }
  absorbed.insert(a);
  return a;
}

void Emitter::bind(const std::string &onnx, const std::string &nn,
                   std::vector<int64_t> dims) {
  vals[onnx] = Value{nn, std::move(dims)};
}

void Emitter::statement(const std::string &name, const std::string &text,
                        const std::string &comment) {
  if (!comment.empty())
    lines.push_back("# " + comment);
  lines.push_back(name + " = " + text);
}

void Emitter::addWeight(const std::string &name, Tensor t,
                        const std::string &from) {
  weights[name] = std::move(t);
  if (!from.empty())
    origins[name] = from;
}

std::string Emitter::paramFor(const std::string &init, const Tensor &t) {
  if (auto it = params.find(init); it != params.end())
    return it->second;
  std::string s = sanitize(init);
  std::string name =
      s.empty() || s.rfind("onnx", 0) == 0 ? fresh("p", true) : fresh(s, false);
  Tensor p = t;
  while (!p.shape.empty() && p.shape[0] == 1)
    p.shape.erase(p.shape.begin());
  lines.push_back(fmt::format("param {} : f32{}   # initializer '{}'", name,
                              p.shape.empty() ? "" : dimsText(p.shape), init));
  addWeight(name, std::move(p), init);
  params[init] = name;
  return name;
}

void Emitter::node(const Node &n) {
  const std::string &op = n.op;
  if (op == "Gemm")
    gemm(n);
  else if (op == "MatMul")
    matmul(n);
  else if (op == "Conv")
    conv(n);
  else if (op == "BatchNormalization")
    batchNorm(n);
  else if (op == "LayerNormalization")
    layerNorm(n);
  else if (op == "MaxPool" || op == "AveragePool")
    pool(n);
  else if (op == "GlobalAveragePool")
    globalPool(n);
  else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div")
    binary(n);
  else if (op == "Flatten")
    flatten(n);
  else if (op == "Reshape")
    reshape(n);
  else if (op == "Softmax")
    softmax(n);
  else
    unary(n);
}

void Emitter::run() {
  inputName = sanitize(m.input);
  if (inputName.empty() || reservedNames().count(inputName))
    inputName = fresh(inputName.empty() ? "x" : inputName + "_", false);
  else
    taken.insert(inputName);
  bind(m.input, inputName, m.inputDims);
  for (const Node &n : m.nodes)
    if (!absorbed.count(&n) && !blocked(n))
      node(n);
  finish();
}

void Emitter::finish() {
  if (problems.empty() && !softmaxPred && !sigmoidPred) {
    const Value *out = value(m.output);
    if (!out)
      problems.push_back(fmt::format("  the output '{}' is not computed from "
                                     "the input",
                                     m.output));
    else if (out->expr == inputName)
      problems.push_back("  the output is the input itself");
    else {
      predExpr = out->expr;
      predDims = out->dims;
    }
  }
  if (problems.empty() && predDims.size() > 1)
    problems.push_back(fmt::format(
        "  the output has shape {} per sample; nnc predicts a number or a "
        "vector per sample",
        dimsText(predDims)));
  if (!problems.empty())
    throw UserError(fmt::format(
        "{}: error: nnc cannot import {} node{}:\n{}", m.file, problems.size(),
        problems.size() == 1 ? "" : "s", fmt::join(problems, "\n")));
  labelName = fresh("y", false);
}

} // namespace nn::onnximport
