//===- Resume.cpp - What a checkpoint must match to be resumed ------------===//
///
/// \file
/// Algorithm: the fingerprint is the forward graph printed one node a line
/// (nodes are numbered in a deterministic order, so equal models print
/// equal lines); a mismatch is reported at the first line that differs,
/// with the current model's source location of that node.
///
//===----------------------------------------------------------------------===//

#include "runtime/Resume.h"

#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Crc32.h"
#include "runtime/Safetensors.h"

#include <cstdio>

namespace nn {

namespace {

constexpr char kSep = ';';

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string nodeLine(const Graph &g, NodeId id) {
  const Node &n = g[id];
  std::string s = std::string(mnemonic(n.op)) + "(";
  for (size_t i = 0; i < n.inputs.size(); ++i)
    s += (i ? "," : "") + std::string("%") + std::to_string(n.inputs[i]);
  s += ") " + n.type.str();
  if (hasTrait(n.op, kLeaf) && n.op != OpKind::Const)
    s += " '" + n.name + "'";
  if (n.axis != -1)
    s += " axis " + std::to_string(n.axis);
  if (n.classes)
    s += " classes " + std::to_string(n.classes);
  if (n.op == OpKind::Const)
    s += n.values.size() == 1
             ? " " + number(n.values[0])
             : " crc " + crc32Hex(crc32(n.values.data(),
                                        n.values.size() * sizeof(double)));
  for (char &c : s)
    if (c == kSep)
      c = ',';
  return s;
}

std::vector<std::string> splitLines(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t end = s.find(kSep, start);
    if (end == std::string::npos)
      end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// A note when the current value of optimizer setting `key` differs.
void noteChange(const Metadata &m, const std::string &key, double now,
                const char *flag, std::ostream *log) {
  auto it = m.find(key);
  if (!log || it == m.end() || it->second == number(now))
    return;
  double was;
  try {
    was = std::stod(it->second);
  } catch (const std::exception &) {
    return; // an unreadable old value: nothing useful to say
  }
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "nnc: note: resuming with %s %g; the checkpoint was trained "
                "with %g (set by %s or the optimizer line)",
                key == "lr" ? "learning rate" : key.c_str(), now, was, flag);
  *log << buf << std::endl;
}

} // namespace

std::vector<std::string> graphFingerprint(const Graph &g) {
  std::vector<std::string> lines;
  for (NodeId id = 0; id < g.size(); ++id)
    lines.push_back(nodeLine(g, id));
  return lines;
}

Metadata checkpointIdentity(const Graph &forward, const Recipe &r) {
  std::string graph;
  for (const std::string &line : graphFingerprint(forward))
    graph += (graph.empty() ? "" : std::string(1, kSep)) + line;
  return {{"graph", graph},
          {"optimizer", optimizerInfo(r.optimizer.kind).name},
          {"lr", number(r.optimizer.lr)},
          {"momentum", number(r.optimizer.momentum)}};
}

Metadata requireCheckpoint(const std::string &path) {
  SafetensorsFile f = readSafetensors(path);
  if (f.metadata.count("format"))
    return f.metadata;
  std::string msg =
      path + ": error: this is a weights file, not a checkpoint: it holds no "
             "optimizer state or training progress to resume";
  msg += "\nnnc: help: to start a new run from these weights, pass --init " +
         path + "; --checkpoint FILE writes checkpoints that resume";
  throw UserError(msg);
}

void checkResumeIdentity(const Metadata &m, const std::string &path,
                         const Graph &forward, const Recipe &r,
                         std::ostream *log) {
  auto it = m.find("graph");
  if (it != m.end()) {
    std::vector<std::string> was = splitLines(it->second);
    std::vector<std::string> now = graphFingerprint(forward);
    size_t i = 0;
    while (i < was.size() && i < now.size() && was[i] == now[i])
      ++i;
    if (i < was.size() || i < now.size()) {
      std::string msg = path + ": error: model '" + forward.name +
                        "' has changed since this checkpoint was written";
      msg += "\n  node %" + std::to_string(i) + " was " +
             (i < was.size() ? "'" + was[i] + "'" : "absent") + ", now " +
             (i < now.size() ? "'" + now[i] + "'" : "absent");
      if (i < now.size() && forward[static_cast<NodeId>(i)].loc.valid())
        msg += " at " + forward[static_cast<NodeId>(i)].loc.str();
      msg += "\nnnc: help: resume with the model that wrote the checkpoint, "
             "or start a new run from its weights with --init " +
             path;
      throw UserError(msg);
    }
  }
  // Another optimizer's state would be dropped, or its own started at zero.
  const std::string now = optimizerInfo(r.optimizer.kind).name;
  auto opt = m.find("optimizer");
  if (opt != m.end() && opt->second != now)
    throw UserError(
        path + ": error: this checkpoint was written by optimizer '" +
        opt->second + "'; this run uses '" + now +
        "'\nnnc: help: resume with --optimizer " + opt->second +
        ", or start a new run from its weights with --init " + path);
  noteChange(m, "lr", r.optimizer.lr, "--lr", log);
  noteChange(m, "momentum", r.optimizer.momentum, "--momentum", log);
}

void warnAboutLength(std::ostream &out, int64_t epoch, int64_t batch,
                     int64_t step, int64_t perEpoch, int64_t epochs,
                     int64_t maxSteps, const std::string &resumePath) {
  int64_t left = (epochs - epoch) * perEpoch - batch; // steps
  if (epoch >= epochs)
    out << "nnc: warning: the checkpoint '" << resumePath << "' has done "
        << epoch << " epochs already, and this run has " << epochs
        << "; nothing to train\nnnc: help: pass --epochs N with N greater "
           "than "
        << epoch << " to train on" << std::endl;
  else if (maxSteps >= 0 && maxSteps - step > left)
    out << "nnc: note: --steps " << maxSteps << " goes beyond the recipe's "
        << epochs << (epochs == 1 ? " epoch" : " epochs")
        << "; stopping after step " << step + left
        << " (raise --epochs to run more)" << std::endl;
}

bool trainedWithoutMomentum(const Metadata &m) {
  auto it = m.find("momentum");
  return it != m.end() && it->second == number(0);
}

} // namespace nn
