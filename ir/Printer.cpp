//===- Printer.cpp - The IR text form -------------------------------------===//
///
/// \file
/// Each node is one line: `%label = op operands {attributes} : type loc(..)`.
/// A node's label is its name when that name is an identifier no other node
/// uses, else its index; a name that cannot be a label is printed as the
/// `name` attribute. Leaves other than Const print their name as a string.
/// Every Node field that differs from its default appears, so the text
/// parses back to an equal graph.
///
//===----------------------------------------------------------------------===//

#include "ir/Printer.h"
#include "ir/IRText.h"

#include "ir/Support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace nn {

std::string formatDouble(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  NN_ASSERT(r.ec == std::errc(), "to_chars failed");
  return std::string(buf, r.ptr);
}

bool isIRIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) ||
                     s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

std::string quoteIRString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

const char *labelKindName(LabelKind k) {
  switch (k) {
  case LabelKind::Binary:
    return "binary";
  case LabelKind::Class:
    return "class";
  case LabelKind::Real:
    return "real";
  }
  NN_UNREACHABLE("bad LabelKind");
}

bool hasLeafName(OpKind k) {
  return hasTrait(k, kLeaf) && k != OpKind::Const;
}

namespace {

/// Labels of every node (without the `%`).
std::vector<std::string> computeLabels(const Graph &g) {
  std::map<std::string, int> uses;
  for (const Node &n : g.nodes)
    ++uses[n.name];
  std::vector<std::string> labels;
  for (NodeId i = 0; i < g.size(); ++i) {
    const std::string &name = g[i].name;
    labels.push_back(isIRIdentifier(name) && uses[name] == 1
                         ? name
                         : std::to_string(i));
  }
  return labels;
}

std::string identOrString(const std::string &s) {
  return isIRIdentifier(s) ? s : quoteIRString(s);
}

std::string valueList(const std::vector<double> &vs) {
  std::string s = "[";
  for (size_t i = 0; i < vs.size(); ++i)
    s += (i ? ", " : "") + formatDouble(vs[i]);
  return s + "]";
}

/// `he`, `constant(0.5)`, `uniform(-0.1, 0.1)`: the arguments the kind
/// needs, and any other non-zero ones.
std::string initStr(const Init &init) {
  int needed = init.kind == InitKind::Constant ? 1
               : init.kind == InitKind::Uniform || init.kind == InitKind::Normal
                   ? 2
                   : 0;
  int n = std::max(needed, init.b != 0 ? 2 : init.a != 0 ? 1 : 0);
  std::string s = initName(init.kind);
  if (n == 0)
    return s;
  s += "(" + formatDouble(init.a);
  if (n == 2)
    s += ", " + formatDouble(init.b);
  return s + ")";
}

/// Step `i` of a fused.elementwise body as a nested expression:
/// `sub(%0, mul(0.05, %1))`. The fusion passes and the parser store bodies
/// as trees in this order (post-order, arguments left to right), so the
/// text parses back to the same steps.
std::string bodyExpr(const std::vector<ExprStep> &body, size_t i) {
  const ExprStep &s = body[i];
  if (s.op == OpKind::Const)
    return formatDouble(s.value);
  std::string r = std::string(mnemonic(s.op)) + "(";
  for (size_t k = 0; k < s.args.size(); ++k) {
    int a = s.args[k];
    r += k ? ", " : "";
    if (a >= 0)
      r += "%" + std::to_string(a);
    else if (static_cast<size_t>(-1 - static_cast<int64_t>(a)) < i)
      r += bodyExpr(body, static_cast<size_t>(-1 - static_cast<int64_t>(a)));
    else
      r += "?"; // malformed; the verifier says why
  }
  return r + ")";
}

bool hasActivationAttr(const Node &n) {
  return n.op == OpKind::Dense || n.op == OpKind::DenseGradInput ||
         n.op == OpKind::DenseGradWeight || n.op == OpKind::DenseGradBias ||
         n.act != Activation::None;
}

std::string locStr(const SrcLoc &l) {
  std::string s = "loc(" + quoteIRString(l.file) + ":" +
                  std::to_string(l.line) + ":" + std::to_string(l.col);
  if (l.len != 1)
    s += "-" + std::to_string(static_cast<int64_t>(l.col) + l.len - 1);
  return s + ")";
}

std::string nodeLine(const Graph &g, NodeId id,
                     const std::vector<std::string> &labels,
                     const PrintOptions &opts) {
  const Node &n = g[id];
  std::string s = "%" + labels[id] + " = " + mnemonic(n.op);
  if (hasLeafName(n.op))
    s += " " + quoteIRString(n.name);
  if (n.op == OpKind::Const)
    s += " " + (n.values.size() == 1 ? formatDouble(n.values[0])
                                     : valueList(n.values));
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    NodeId in = n.inputs[i];
    s += (i ? ", %" : " %") +
         (in >= 0 && in < g.size() ? labels[in] : std::to_string(in));
  }

  std::vector<std::string> attrs;
  if (!hasLeafName(n.op) && !n.name.empty() &&
      !(isIRIdentifier(n.name) && labels[id] == n.name))
    attrs.push_back("name = " + quoteIRString(n.name));
  for (std::string &a : attributeTexts(n))
    attrs.push_back(std::move(a));
  if (!attrs.empty()) {
    s += " {";
    for (size_t i = 0; i < attrs.size(); ++i)
      s += (i ? ", " : "") + attrs[i];
    s += "}";
  }
  s += " : " + n.type.str();

  if (opts.locations && !(n.loc == SrcLoc{})) {
    constexpr size_t kLocColumn = 56;
    s += s.size() + 2 < kLocColumn ? std::string(kLocColumn - 2 - s.size(), ' ')
                                   : std::string(" ");
    s += locStr(n.loc);
  }
  return s;
}

} // namespace

std::vector<std::string> attributeTexts(const Node &n) {
  std::vector<std::string> attrs;
  if (n.axis != -1)
    attrs.push_back("axis = " + std::to_string(n.axis));
  if (n.classes != 0)
    attrs.push_back("classes = " + std::to_string(n.classes));
  if (n.op == OpKind::Label || n.labelKind != LabelKind::Real)
    attrs.push_back(std::string("kind = ") + labelKindName(n.labelKind));
  if (n.op == OpKind::Param || n.init.kind != InitKind::Zeros ||
      n.init.a != 0 || n.init.b != 0)
    attrs.push_back("init = " + initStr(n.init));
  if (n.isWeight)
    attrs.push_back("weight");
  if (n.storedTransposed)
    attrs.push_back("transposed");
  if (n.op != OpKind::Const && !n.values.empty())
    attrs.push_back("values = " + valueList(n.values));
  if (hasActivationAttr(n))
    attrs.push_back(std::string("act = ") + activationName(n.act));
  if (n.transA)
    attrs.push_back("transA");
  if (n.transB)
    attrs.push_back("transB");
  if (!n.body.empty())
    attrs.push_back("body = " + bodyExpr(n.body, n.body.size() - 1));
  return attrs;
}

std::string printNode(const Graph &g, NodeId id, const PrintOptions &opts) {
  return nodeLine(g, id, computeLabels(g), opts);
}

NodePrinter::NodePrinter(const Graph &g, const PrintOptions &opts)
    : g(g), opts(opts), labels(computeLabels(g)) {}

std::string NodePrinter::operator()(NodeId id) const {
  return nodeLine(g, id, labels, opts);
}

std::string printGraph(const Graph &g, const PrintOptions &opts) {
  std::vector<std::string> labels = computeLabels(g);
  auto ref = [&](NodeId id) {
    return "%" + (id >= 0 && id < g.size() ? labels[id] : std::to_string(id));
  };
  std::string s = "graph " + identOrString(g.name) + " {\n";
  for (NodeId id = 0; id < g.size(); ++id)
    s += "  " + nodeLine(g, id, labels, opts) + "\n";
  for (const Output &o : g.outputs)
    s += "  output " + identOrString(o.name) + " = " + ref(o.node) + "\n";
  for (const Update &u : g.updates)
    s += "  update " + ref(u.target) + " <- " + ref(u.value) + "\n";
  return s + "}\n";
}

} // namespace nn
