//===- WeightsFile.cpp - Weights and checkpoints as safetensors -----------===//

#include "runtime/WeightsFile.h"

#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Safetensors.h"

#include <cmath>

namespace nn {

Tensor transposed(const Tensor &t) {
  if (t.rank() != 2)
    return t;
  int64_t r = t.shape[0], c = t.shape[1];
  Tensor out({c, r});
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      out[j * r + i] = t[i * c + j];
  return out;
}

namespace {

/// The leaf whose layout decides how `leaf` is stored: a State leaf
/// "optimizer.P.momentum" follows its param P.
bool isStoredTransposed(const Graph &g, const Node &leaf) {
  if (leaf.op == OpKind::Param)
    return leaf.storedTransposed;
  for (NodeId id : g.leaves(OpKind::Param)) {
    const Node &p = g[id];
    if (leaf.name.rfind("optimizer." + p.name + ".", 0) == 0)
      return p.storedTransposed;
  }
  return false;
}

std::vector<NodeId> stateLeaves(const Graph &g, bool withState) {
  std::vector<NodeId> ids = g.leaves(OpKind::Param);
  if (withState)
    for (NodeId id : g.leaves(OpKind::State))
      ids.push_back(id);
  return ids;
}

std::vector<int64_t> fileShape(const Graph &g, const Node &leaf) {
  std::vector<int64_t> s = leaf.type.dims;
  if (isStoredTransposed(g, leaf) && s.size() == 2)
    std::swap(s[0], s[1]);
  return s;
}

/// "'fc1.bias' holds 3 non-finite values (2 NaN, 1 inf) of 128", or "".
std::string nonFiniteProblem(const std::string &name, const Tensor &t) {
  int64_t nan = 0, inf = 0;
  for (float v : t.data) {
    nan += std::isnan(v);
    inf += std::isinf(v);
  }
  if (nan + inf == 0)
    return "";
  int64_t bad = nan + inf;
  return "'" + name + "' holds " + std::to_string(bad) + " non-finite " +
         (bad == 1 ? "value" : "values") + " (" + std::to_string(nan) +
         " NaN, " + std::to_string(inf) + " inf) of " +
         std::to_string(t.numel());
}

/// A checkpoint's early-stopping copy of a leaf: "best.<leaf>".
bool isBestCopy(const std::string &name) { return name.rfind("best.", 0) == 0; }

} // namespace

void saveWeights(const std::string &path, const Graph &g,
                 const TensorMap &values, const Metadata &metadata,
                 bool withState, const TensorMap &extra) {
  TensorMap out = extra;
  for (NodeId id : stateLeaves(g, withState)) {
    const Node &n = g[id];
    auto it = values.find(n.name);
    NN_ASSERT(it != values.end(), "no value for '" + n.name + "'");
    out[n.name] = isStoredTransposed(g, n) ? transposed(it->second) : it->second;
  }
  Metadata meta = metadata;
  meta["model"] = g.name;
  writeSafetensors(path, out, meta);
}

LoadedWeights loadWeights(const std::string &path, const Graph &g,
                          bool requireState,
                          const std::vector<std::string> &extraPrefixes) {
  SafetensorsFile file = readSafetensors(path);
  LoadedWeights lw;
  lw.metadata = file.metadata;
  std::vector<std::string> problems;
  std::vector<NodeId> wanted = stateLeaves(g, true);
  for (NodeId id : wanted) {
    const Node &n = g[id];
    auto it = file.tensors.find(n.name);
    if (it == file.tensors.end()) {
      // A State leaf with a first value of its own (the lr, which the
      // trainer writes before each step) may be missing: older checkpoints.
      bool ownFirstValue = n.op == OpKind::State && !n.values.empty();
      if (n.op == OpKind::Param || (requireState && !ownFirstValue))
        problems.push_back("missing '" + n.name + "'");
      continue;
    }
    std::vector<int64_t> want = fileShape(g, n);
    if (it->second.shape != want) {
      problems.push_back("'" + n.name + "' has shape " +
                         dimsStr(it->second.shape) + ", the model needs " +
                         dimsStr(want));
      continue;
    }
    lw.values[n.name] =
        isStoredTransposed(g, n) ? transposed(it->second) : it->second;
  }
  for (const auto &[name, t] : file.tensors) {
    if (lw.values.count(name))
      continue;
    bool isLeaf = false;
    for (NodeId id : wanted)
      isLeaf |= g[id].name == name;
    if (isLeaf)
      continue;
    bool isExtra = isBestCopy(name);
    for (const std::string &p : extraPrefixes)
      isExtra |= name.rfind(p, 0) == 0;
    if (isExtra)
      lw.extra[name] = t;
    else if (name.rfind("optimizer.", 0) != 0)
      problems.push_back("unexpected '" + name + "'");
  }
  if (!problems.empty()) {
    std::string msg = path + ": error: weights do not match model '" + g.name +
                      "'";
    auto it = file.metadata.find("model");
    if (it != file.metadata.end() && it->second != g.name)
      msg += " (the file is from model '" + it->second + "')";
    for (const std::string &p : problems)
      msg += "\n  " + p;
    throw UserError(msg);
  }
  // Weights holding NaN or infinities would only print NaN figures (or stop
  // training at its first step): name each such tensor, whatever its role.
  for (const auto &[name, t] : file.tensors) {
    std::string bad = nonFiniteProblem(name, t);
    if (!bad.empty())
      problems.push_back(bad);
  }
  if (!problems.empty()) {
    std::string msg = path + ": error: the weights are not finite";
    for (const std::string &p : problems)
      msg += "\n  " + p;
    throw UserError(msg + "\nnnc: help: these weights cannot be used; train "
                          "again, or load an earlier checkpoint");
  }
  return lw;
}

} // namespace nn
