//===- CpuTestUtil.h - Running graphs on the CPU backend in tests -*- C++ -*-===//
///
/// \file
/// Helpers shared by the CPU backend tests: load an example through the
/// pipeline, random leaves, a memory plan without reuse (so every node's
/// value can be read back after a step), a run of the compiled code, and the
/// float-against-double comparison with the interpreter.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"
#include "frontend/Frontend.h"
#include "ir/IRParser.h"
#include "passes/InferShapes.h"
#include "passes/Pipeline.h"
#include "passes/UpdateChains.h"
#include "runtime/Interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace nn::test {

/// The graph written in nnc's IR text (`nnc emit` syntax), shapes inferred;
/// a parse error fails the test.
inline Graph parseIr(const std::string &text) {
  DiagEngine diags;
  diags.addSource("t.nnir", text);
  Graph g = inferShapes(parseGraph("t.nnir", text, diags), diags);
  EXPECT_FALSE(diags.hasErrors()) << diags.str();
  return g;
}

inline std::string readText(const std::string &path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// The model in `text` (named `path`), lowered, not yet through the passes.
inline Model parseText(const std::string &path, const std::string &text) {
  DiagEngine diags;
  diags.addSource(path, text);
  std::optional<Model> m = parseModel(path, text, diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  return *m;
}

/// `m` through the pipeline up to `stage`, with these fusions (Stage::Fused).
inline Model throughPipeline(Model m, Stage stage,
                             std::optional<std::set<std::string>> fusions = {}) {
  PipelineOptions opts;
  if (fusions)
    opts.fusions = *fusions;
  DiagEngine diags;
  m.graph = runPipeline(m.graph, m.recipe, stage, opts, diags);
  return m;
}

/// examples/<name> through the pipeline up to `stage`.
inline Model loadExample(const std::string &name, Stage stage,
                         std::optional<std::set<std::string>> fusions = {}) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + name;
  return throughPipeline(parseText(path, readText(path)), stage, fusions);
}

/// Random values for every Input, Label, Param and State leaf; `batch` rows.
/// Class labels are valid ids, binary labels 0/1.
inline ValueMap randomLeaves(const Graph &g, int64_t batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  ValueMap l;
  for (const Node &n : g.nodes) {
    if (!hasTrait(n.op, kLeaf) || n.op == OpKind::Const)
      continue;
    Value v;
    v.shape = n.type.dims;
    for (int64_t &d : v.shape)
      d = d == kBatch ? batch : d;
    int64_t k = 1;
    for (int64_t d : v.shape)
      k *= d;
    for (int64_t i = 0; i < k; ++i) {
      double x = u(rng);
      if (n.op == OpKind::Param)
        x = (x - 0.5) * 0.6;
      else if (n.op == OpKind::State)
        x = (x - 0.5) * 0.02;
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
        x = std::floor(x * static_cast<double>(n.classes));
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
        x = x < 0.5 ? 0 : 1;
      v.data.push_back(static_cast<double>(static_cast<float>(x)));
    }
    l[n.name] = v;
  }
  return l;
}

/// Adds a leaf of kind `op` (Input or Param) named `name` with `dims`
/// (kBatch allowed) to `g`, and its value for `batch` rows to `leaves`:
/// uniform in [lo, hi) from `seed`, rounded to float.
inline NodeId addRandomLeaf(Graph &g, ValueMap &leaves, OpKind op,
                            const std::string &name,
                            const std::vector<int64_t> &dims, int64_t batch,
                            double lo, double hi, uint64_t seed) {
  Node n = makeNode(op, {});
  n.name = name;
  n.type = TensorType::of(dims);
  NodeId id = g.add(n);
  Value v;
  for (int64_t d : dims)
    v.shape.push_back(d == kBatch ? batch : d);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  int64_t k = 1;
  for (int64_t d : v.shape)
    k *= d;
  for (int64_t i = 0; i < k; ++i)
    v.data.push_back(static_cast<float>(u(rng)));
  leaves[name] = v;
  return id;
}

/// Every non-leaf node in its own buffer (no reuse), so that after a step
/// every node's value is still in the arena.
inline MemoryPlan planWithoutReuse(const Graph &g, int64_t maxBatch) {
  MemoryPlan p;
  p.maxBatch = maxBatch;
  p.offset.assign(g.nodes.size(), -1);
  p.bytes.assign(g.nodes.size(), 0);
  for (NodeId id = 0; id < g.size(); ++id) {
    if (hasTrait(g[id].op, kLeaf))
      continue;
    p.offset[id] = p.arenaBytes;
    p.bytes[id] = g[id].type.numel(maxBatch) * 4;
    p.arenaBytes += (p.bytes[id] + 63) / 64 * 64;
  }
  return p;
}

/// The result of one compiled step: the arena, and the leaves after it (the
/// updates written into Param and State leaves).
struct CpuRun {
  std::vector<float> arenaData;
  std::map<std::string, std::vector<float>> leaves;

  /// Node `id`'s value at `batch`, read from the arena.
  std::vector<float> value(const Graph &g, const MemoryPlan &plan, NodeId id,
                           int64_t batch) const {
    const float *p = arenaData.data() + plan.offset[id] / 4;
    return std::vector<float>(p, p + g[id].type.numel(batch));
  }
};

/// Runs `prog` once on `leaves` (float copies).
inline CpuRun runProgram(const Graph &g, const CpuProgram &prog,
                         const ValueMap &leaves, int64_t batch) {
  CpuRun r;
  r.arenaData.assign(static_cast<size_t>(prog.plan().arenaBytes / 4 + 16),
                     std::nanf(""));
  std::vector<const float *> ptrs;
  for (NodeId id : prog.leafOrder()) {
    const Value &v = leaves.at(g[id].name);
    std::vector<float> &dst = r.leaves[g[id].name];
    dst.assign(v.data.begin(), v.data.end());
  }
  for (NodeId id : prog.leafOrder())
    ptrs.push_back(r.leaves[g[id].name].data());
  // The arena vector is 4-byte aligned; the code only needs that.
  prog.entry()(ptrs.data(), r.arenaData.data(), batch);
  return r;
}

/// The outputs of one CPU step of `g` under the memory plan `nnc train`
/// uses.
inline std::map<std::string, std::vector<float>>
stepOutputs(const Graph &g, const ValueMap &leaves, int64_t batch) {
  MemoryPlan plan = planMemory(g, batch);
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, {});
  CpuRun run = runProgram(g, *prog, leaves, batch);
  std::map<std::string, std::vector<float>> r;
  for (const Output &o : g.outputs)
    r[o.name] = run.value(g, plan, o.node, batch);
  return r;
}

/// Named float vectors as raw bits, for comparisons bit for bit.
using Bits = std::map<std::string, std::vector<uint32_t>>;

inline void putBits(Bits &bits, const std::string &name,
                    const std::vector<float> &v) {
  std::vector<uint32_t> &b = bits[name];
  b.resize(v.size());
  std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
}

/// Updated leaves and outputs of one step, as raw bits.
inline Bits resultBits(const Graph &g, const CpuProgram &prog,
                       const ValueMap &leaves, int64_t batch) {
  CpuRun run = runProgram(g, prog, leaves, batch);
  Bits bits;
  for (const auto &[name, v] : run.leaves)
    putBits(bits, name, v);
  for (const Output &o : g.outputs)
    putBits(bits, "output " + o.name, run.value(g, prog.plan(), o.node, batch));
  return bits;
}

/// Expects `got` (float) to match `want` (double) to `rtol` relative, with
/// elements near zero judged against the tensor's largest magnitude (sums of
/// terms of both signs cancel to values whose own relative error is large).
inline void expectClose(const std::vector<float> &got,
                        const std::vector<double> &want, double rtol,
                        const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (double w : want)
    scale = std::max(scale, std::fabs(w));
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double tol = rtol * (std::fabs(want[i]) + 1e-2 * scale) + 1e-30;
    bool same = std::isnan(want[i]) ? std::isnan(got[i])
                : std::isinf(want[i]) ? got[i] == want[i]
                                      : std::fabs(got[i] - want[i]) <= tol;
    if (!same && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: cpu " << got[i]
                    << ", interpreter " << want[i];
  }
}

/// Compiles `g` with a no-reuse plan and checks every non-leaf node's value
/// and every update against the interpreter on `leaves` (`batch` rows, at
/// most `maxBatch`).
inline void checkAgainstInterpreter(const Graph &g, const ValueMap &leaves,
                                    int64_t batch, int64_t maxBatch,
                                    double rtol, const std::string &what,
                                    int optLevel = 2) {
  MemoryPlan plan = planWithoutReuse(g, maxBatch);
  CpuOptions opts;
  opts.optLevel = optLevel;
  std::unique_ptr<CpuProgram> prog = compileCpu(g, plan, opts);
  CpuRun run = runProgram(g, *prog, leaves, batch);
  std::vector<Value> want = Interpreter(g).run(leaves);
  std::vector<int> uses = g.useCounts();
  for (NodeId id = 0; id < g.size(); ++id) {
    // A folded gradient or sum operand is computed in its user's loop,
    // never stored (passes/UpdateChains.h): the user's check covers it.
    if (hasTrait(g[id].op, kLeaf) || isFoldedGradient(g, id, uses) ||
        isFoldedIntoSum(g, id, uses))
      continue;
    expectClose(run.value(g, plan, id, batch), want[id].data, rtol,
                what + ": %" + std::to_string(id) + " " + mnemonic(g[id].op) +
                    " '" + g[id].name + "'");
  }
  for (const Update &u : g.updates)
    expectClose(run.leaves.at(g[u.target].name), want[u.value].data, rtol,
                what + ": update of '" + g[u.target].name + "'");
}

/// How many times `what` occurs in `s` (overlaps counted).
inline int count(const std::string &s, const std::string &what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos;
       p = s.find(what, p + 1))
    ++n;
  return n;
}

/// Whether the LLVM function `name` is a kernel (of a node or of a weight
/// and bias gradient pair): not a task, a GEMM helper, the serial
/// parallel-for, an LLVM intrinsic, a part of an entry point or an
/// optimizer kernel.
inline bool isKernelName(const std::string &name) {
  static const std::regex other(
      R"((task_|nnc_|llvm\.).*|.*_step_part[0-9]+|.*_optimizer(_[0-9]+)?)");
  return !std::regex_match(name, other);
}

/// How many times `ir` names a kernel (isKernelName) right after `before`
/// ("define internal void @", "call void @", "@task_").
inline int countKernels(const std::string &ir, const std::string &before) {
  int n = 0;
  for (size_t p = ir.find(before); p != std::string::npos;
       p = ir.find(before, p + 1)) {
    size_t from = p + before.size(), to = from;
    while (to < ir.size() && (std::isalnum(static_cast<unsigned char>(
                                  ir[to])) || ir[to] == '_' || ir[to] == '.'))
      ++to;
    n += to > from && isKernelName(ir.substr(from, to - from));
  }
  return n;
}

} // namespace nn::test
