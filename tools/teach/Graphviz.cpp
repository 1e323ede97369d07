//===- Graphviz.cpp - Graphs as Graphviz DOT, rendered by dot -------------===//
///
/// \file
/// DOT writer: leaves are ellipses (inputs blue, parameters yellow, optimizer
/// state grey), constants small plain text, ops boxes (a convolution's or a
/// pooling's with its window: kernel, stride, padding); an edge carries the
/// operand's shape; an update is a dashed edge back to the parameter it
/// overwrites; outputs are separate octagons. With a KernelMap, the nodes of
/// each fused kernel form a cluster labelled with the kernel. dot runs as a
/// child process (posix_spawnp, no shell) on temporary files.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Graphviz.h"
#include "tools/teach/LayerText.h"
#include "tools/teach/Significant.h"
#include "tools/teach/SourceLine.h"

#include "ir/Printer.h"
#include "ir/Support.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace nn {

namespace {

/// Escapes for a DOT double-quoted string; "\n" stays a DOT line break.
std::string esc(const std::string &s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

/// The source line of a node's label: without its comment, at most 44
/// characters.
std::string labelLine(const std::string &text, int line) {
  std::string s = sourceLine(text, line);
  if (size_t hash = s.find('#'); hash != std::string::npos) {
    s.resize(hash); // no comments
    s.erase(s.find_last_not_of(" \t") + 1);
  }
  return s.size() > 44 ? s.substr(0, 41) + "..." : s;
}

std::string nodeName(const Graph &g, NodeId id) {
  return g[id].name.empty() ? "%" + std::to_string(id) : g[id].name;
}

} // namespace

std::string valuePreview(const Value &v, size_t shown) {
  auto num = [](double d) { return significant(d, 4); };
  if (v.data.size() == 1 && v.shape.empty())
    return num(v.data[0]);
  std::string s = "[";
  for (size_t i = 0; i < v.data.size() && i < shown; ++i)
    s += (i ? ", " : "") + num(v.data[i]);
  if (v.data.size() > shown)
    s += ", ... " + std::to_string(v.data.size()) + " values";
  return s + "]";
}

namespace {

/// The label of a constant: its value, and its name where it has one.
std::string constLabel(const Node &n) {
  std::string l = n.values.size() == 1 ? formatDouble(n.values[0]) : "const";
  if (!n.name.empty() && n.name.rfind("d.", 0) != 0)
    l = n.name + " = " + l;
  return l;
}

/// The label of node `id`: name and op, shape, source line, and the
/// value and gradient after one step where the options have them.
std::string nodeLabel(const Graph &g, NodeId id, const DotOptions &opts) {
  const Node &n = g[id];
  if (n.op == OpKind::Const)
    return constLabel(n);
  std::string l = nodeName(g, id);
  if (family(n.op) == OpFamily::Leaf)
    l += fmt::format(" ({})", mnemonic(n.op));
  else
    l += fmt::format(" = {}", mnemonic(n.op));
  if (carriesActivation(n.op))
    l += fmt::format(" {{{}}}", activationName(n.act));
  if (family(n.op) == OpFamily::Spatial)
    if (std::string win = windowText(n); !win.empty())
      l += "\n" + win; // kernel 3x3, stride 1, padding 1, act relu
  l += "\n" + n.type.str();
  if (n.loc.valid()) {
    std::string file = std::filesystem::path(n.loc.file).filename().string();
    l += fmt::format("\n{}:{}", file, n.loc.line);
    std::string src = labelLine(opts.sourceText, n.loc.line);
    if (!src.empty())
      l += "  " + src;
  }
  if (opts.values && id < static_cast<NodeId>(opts.values->size()) &&
      !(*opts.values)[id].data.empty())
    l += "\nvalue " + valuePreview((*opts.values)[id]);
  if (opts.gradients && !n.name.empty())
    if (auto it = opts.gradients->find(n.name); it != opts.gradients->end())
      l += "\ngrad " + valuePreview(it->second);
  return l;
}

/// Leaves by kind (inputs blue, parameters yellow, optimizer state grey,
/// constants plain text); every op a box, gradients red.
std::string leafStyle(LeafOp op) {
  switch (op) {
  case LeafOp::Input:
  case LeafOp::Label:
    return "shape=ellipse, style=filled, fillcolor=\"#cfe2f3\"";
  case LeafOp::Param:
    return "shape=ellipse, style=filled, fillcolor=\"#fff2cc\"";
  case LeafOp::State:
    return "shape=ellipse, style=filled, fillcolor=\"#eeeeee\"";
  case LeafOp::Const:
    return "shape=plaintext, fontsize=9";
  }
  NN_UNREACHABLE("bad LeafOp");
}

std::string nodeStyle(const Node &n) {
  switch (family(n.op)) {
  case OpFamily::Leaf:
    return leafStyle(member<LeafOp>(n.op));
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return n.name.rfind("d.", 0) == 0
               ? "shape=box, style=\"rounded,filled\", fillcolor=\"#f4cccc\""
               : "shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"";
  }
  NN_UNREACHABLE("bad OpFamily");
}

std::string nodeLine(const Graph &g, NodeId id, const DotOptions &opts,
                     const char *indent) {
  return fmt::format("{}n{} [label=\"{}\", {}];\n", indent, id,
                     esc(nodeLabel(g, id, opts)), nodeStyle(g[id]));
}

/// One cluster per kernel of two or more nodes; a node in several kernels
/// is drawn in the first and named in the others' labels. Marks the nodes
/// drawn.
std::string clusters(const Graph &g, const DotOptions &opts,
                     std::vector<bool> &drawn) {
  std::map<NodeId, std::vector<NodeId>> members;
  for (NodeId id = 0; id < g.size(); ++id) {
    std::vector<NodeId> ks = opts.kernels->owners(id);
    if (!ks.empty())
      members[ks.front()].push_back(id);
  }
  std::string os;
  for (const auto &[k, ids] : members) {
    if (ids.size() < 2)
      continue;
    os += fmt::format("  subgraph cluster_{} {{\n    label=\"kernel {}\"; "
                      "style=\"rounded,filled\"; fillcolor=\"#e8f4e8\"; "
                      "color=\"#6aa84f\"; fontsize=10;\n",
                      k, esc(opts.kernels->kernelLabel(k)));
    for (NodeId id : ids) {
      os += nodeLine(g, id, opts, "    ");
      drawn[id] = true;
    }
    os += "  }\n";
  }
  return os;
}

/// Operand edges (with the operand's shape), update edges, outputs.
std::string edges(const Graph &g) {
  std::string os;
  for (NodeId id = 0; id < g.size(); ++id)
    for (NodeId in : g[id].inputs)
      os += fmt::format("  n{} -> n{} [label=\"{}\"];\n", in, id,
                        esc(g[in].type.str()));
  for (const Update &u : g.updates)
    os += fmt::format("  n{} -> n{} [style=dashed, color=\"#999999\", "
                      "label=\"update\", constraint=false];\n",
                      u.value, u.target);
  for (size_t i = 0; i < g.outputs.size(); ++i)
    os += fmt::format("  out{} [label=\"output {}\", shape=octagon];\n  "
                      "n{} -> out{};\n",
                      i, esc(g.outputs[i].name), g.outputs[i].node, i);
  return os;
}

} // namespace

std::string graphToDot(const Graph &g, const DotOptions &opts) {
  std::string title =
      g.name + (opts.sourcePath.empty() ? "" : " (" + opts.sourcePath + ")");
  std::string os = fmt::format(
      "digraph \"{}\" {{\n"
      "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, "
      "label=\"{}\", labelloc=t];\n"
      "  node [fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n",
      esc(g.name), esc(title));
  std::vector<bool> drawn(g.size(), false);
  if (opts.kernels)
    os += clusters(g, opts, drawn);
  for (NodeId id = 0; id < g.size(); ++id)
    if (!drawn[id])
      os += nodeLine(g, id, opts, "  ");
  return os + edges(g) + "}\n";
}

std::optional<std::string> findDot() {
  const char *path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(
        start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/dot";
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  return std::nullopt;
}

std::string runDot(const std::string &dotText, const std::string &format) {
  std::optional<std::string> dot = findDot();
  if (!dot)
    throw UserError("nnc: error: rendering " + format +
                    " needs Graphviz's 'dot', which is not installed "
                    "(apt-get install graphviz); write .dot instead");
  namespace fs = std::filesystem;
  std::string base = (fs::temp_directory_path() /
                      ("nnc-dot-" + std::to_string(getpid()) + "-" +
                       std::to_string(reinterpret_cast<uintptr_t>(&dotText))))
                         .string();
  std::string in = base + ".dot", out = base + "." + format,
              err = base + ".err";
  struct Cleanup {
    std::vector<std::string> files;
    ~Cleanup() {
      for (const std::string &f : files)
        std::remove(f.c_str());
    }
  } cleanup{{in, out, err}};
  {
    std::ofstream f(in);
    f << dotText;
    if (!f.flush())
      throw UserError("nnc: error: cannot write " + in);
  }
  std::string fmtArg = "-T" + format, outArg = "-o" + out;
  std::vector<char *> argv = {const_cast<char *>("dot"), fmtArg.data(),
                              outArg.data(), in.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc =
      posix_spawn(&pid, dot->c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw UserError("nnc: error: cannot run " + *dot);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto slurp = [](const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw UserError("nnc: error: dot failed: " + slurp(err));
  return slurp(out);
}

} // namespace nn
