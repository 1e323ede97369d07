//===- Printer.cpp - The IR text form -------------------------------------===//
///
/// \file
/// Each node is one line: `%label = op operands {attributes} : type loc(..)`.
/// A node's label is its name when that name is an identifier no other node
/// uses, else its index; a name that cannot be a label is printed as the
/// `name` attribute. Leaves other than Const print their name as a string.
/// Every Node field that differs from its default appears (the attribute
/// table, ir/Attributes.h), so the text parses back to an equal graph.
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
                                     : valuesText(n.values));
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
