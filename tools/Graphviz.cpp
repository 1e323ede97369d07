//===- Graphviz.cpp - Graphs as Graphviz DOT, rendered by dot -------------===//
///
/// \file
/// DOT writer: leaves are ellipses (inputs blue, parameters yellow, optimizer
/// state grey), constants small plain text, ops boxes; an edge carries the
/// operand's shape; an update is a dashed edge back to the parameter it
/// overwrites; outputs are separate octagons. With a KernelMap, the nodes of
/// each fused kernel form a cluster labelled with the kernel. dot runs as a
/// child process (posix_spawnp, no shell) on temporary files.
///
//===----------------------------------------------------------------------===//

#include "tools/Graphviz.h"

#include "ir/Printer.h"
#include "ir/Support.h"

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

std::string sourceLine(const std::string &text, int line) {
  std::istringstream is(text);
  std::string s;
  for (int i = 1; std::getline(is, s); ++i)
    if (i == line) {
      size_t b = s.find_first_not_of(" \t");
      size_t e = s.find_last_not_of(" \t\r");
      s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
      if (size_t hash = s.find('#'); hash != std::string::npos) {
        s.resize(hash); // no comments
        s.erase(s.find_last_not_of(" \t") + 1);
      }
      return s.size() > 44 ? s.substr(0, 41) + "..." : s;
    }
  return "";
}

std::string nodeName(const Graph &g, NodeId id) {
  return g[id].name.empty() ? "%" + std::to_string(id) : g[id].name;
}

} // namespace

std::string valuePreview(const Value &v, size_t shown) {
  auto num = [](double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", d);
    return std::string(buf);
  };
  if (v.data.size() == 1 && v.shape.empty())
    return num(v.data[0]);
  std::string s = "[";
  for (size_t i = 0; i < v.data.size() && i < shown; ++i)
    s += (i ? ", " : "") + num(v.data[i]);
  if (v.data.size() > shown)
    s += ", ... " + std::to_string(v.data.size()) + " values";
  return s + "]";
}

std::string graphToDot(const Graph &g, const DotOptions &opts) {
  std::ostringstream os;
  os << "digraph \"" << esc(g.name) << "\" {\n"
     << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, "
        "label=\""
     << esc(g.name + (opts.sourcePath.empty() ? "" : " (" + opts.sourcePath + ")"))
     << "\", labelloc=t];\n"
     << "  node [fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";

  auto label = [&](NodeId id) {
    const Node &n = g[id];
    std::string l;
    if (n.op == OpKind::Const) {
      l = n.values.size() == 1 ? formatDouble(n.values[0]) : "const";
      if (!n.name.empty() && n.name.rfind("d.", 0) != 0)
        l = n.name + " = " + l;
      return l;
    }
    l = nodeName(g, id);
    if (!hasTrait(n.op, kLeaf))
      l += " = " + std::string(mnemonic(n.op));
    else
      l += " (" + std::string(mnemonic(n.op)) + ")";
    if (n.op == OpKind::Dense || n.op == OpKind::DenseGradInput ||
        n.op == OpKind::DenseGradWeight || n.op == OpKind::DenseGradBias)
      l += std::string(" {") + activationName(n.act) + "}";
    l += "\n" + n.type.str();
    if (n.loc.valid()) {
      std::string file = std::filesystem::path(n.loc.file).filename().string();
      l += "\n" + file + ":" + std::to_string(n.loc.line);
      std::string src = sourceLine(opts.sourceText, n.loc.line);
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
  };
  auto style = [&](NodeId id) -> std::string {
    switch (g[id].op) {
    case OpKind::Input:
    case OpKind::Label:
      return "shape=ellipse, style=filled, fillcolor=\"#cfe2f3\"";
    case OpKind::Param:
      return "shape=ellipse, style=filled, fillcolor=\"#fff2cc\"";
    case OpKind::State:
      return "shape=ellipse, style=filled, fillcolor=\"#eeeeee\"";
    case OpKind::Const:
      return "shape=plaintext, fontsize=9";
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::MatMul:
    case OpKind::Transpose:
    case OpKind::Expand:
    case OpKind::Sum:
    case OpKind::Mean:
    case OpKind::Count:
    case OpKind::Softmax:
    case OpKind::OneHot:
    case OpKind::Bce:
    case OpKind::BceLogits:
    case OpKind::CrossEntropy:
    case OpKind::SoftmaxCrossEntropy:
    case OpKind::Mse:
    case OpKind::Dense:
    case OpKind::FusedMatMul:
    case OpKind::DenseGradInput:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradBias:
    case OpKind::SoftmaxXentGrad:
    case OpKind::SigmoidBceGrad:
    case OpKind::SgdMomentum:
    case OpKind::Sgd:
    case OpKind::Elementwise:
      return g[id].name.rfind("d.", 0) == 0
                 ? "shape=box, style=\"rounded,filled\", fillcolor=\"#f4cccc\""
                 : "shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"";
    }
    NN_UNREACHABLE("bad OpKind");
  };
  auto nodeLine = [&](NodeId id, const std::string &indent) {
    os << indent << "n" << id << " [label=\"" << esc(label(id)) << "\", "
       << style(id) << "];\n";
  };

  std::vector<bool> drawn(g.size(), false);
  if (opts.kernels) {
    // One cluster per kernel of two or more nodes; a node in several
    // kernels is drawn in the first and named in the others' labels.
    std::map<NodeId, std::vector<NodeId>> members;
    for (NodeId id = 0; id < g.size(); ++id) {
      std::vector<NodeId> ks = opts.kernels->owners(id);
      if (!ks.empty())
        members[ks.front()].push_back(id);
    }
    for (const auto &[k, ids] : members) {
      if (ids.size() < 2)
        continue;
      os << "  subgraph cluster_" << k << " {\n"
         << "    label=\"kernel " << esc(opts.kernels->kernelLabel(k))
         << "\"; style=\"rounded,filled\"; fillcolor=\"#e8f4e8\"; "
            "color=\"#6aa84f\"; fontsize=10;\n";
      for (NodeId id : ids) {
        nodeLine(id, "    ");
        drawn[id] = true;
      }
      os << "  }\n";
    }
  }
  for (NodeId id = 0; id < g.size(); ++id)
    if (!drawn[id])
      nodeLine(id, "  ");

  for (NodeId id = 0; id < g.size(); ++id)
    for (NodeId in : g[id].inputs)
      os << "  n" << in << " -> n" << id << " [label=\""
         << esc(g[in].type.str()) << "\"];\n";
  for (const Update &u : g.updates)
    os << "  n" << u.value << " -> n" << u.target
       << " [style=dashed, color=\"#999999\", label=\"update\", "
          "constraint=false];\n";
  for (size_t i = 0; i < g.outputs.size(); ++i)
    os << "  out" << i << " [label=\"output " << esc(g.outputs[i].name)
       << "\", shape=octagon];\n  n" << g.outputs[i].node << " -> out" << i
       << ";\n";
  os << "}\n";
  return os.str();
}

std::optional<std::string> findDot() {
  const char *path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos
                                             ? std::string::npos
                                             : colon - start);
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
  int rc = posix_spawn(&pid, dot->c_str(), &actions, nullptr, argv.data(),
                       environ);
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
