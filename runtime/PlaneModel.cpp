//===- PlaneModel.cpp - A small model's units over its input plane --------===//
///
/// \file
/// Finds the layers of a forward graph and cuts it down to them.
///
/// Algorithm: the layers are read off the matmuls whose right operand is a
/// Param. Every left operand that is not the Input leaf is a hidden layer
/// (the value a later layer reads); the prediction is the last layer. The
/// matmul that feeds a layer is the latest one among the nodes it is
/// computed from without passing through another matmul; its Param is the
/// layer's weights and its left operand the layer it reads. The graph keeps
/// only the nodes the outputs need (as CompileCommand's prediction graph
/// does), with one output per layer.
///
//===----------------------------------------------------------------------===//

#include "runtime/PlaneModel.h"

#include "ir/Support.h"
#include "passes/GraphUtil.h"

#include <algorithm>
#include <cmath>

namespace nn {

namespace {

/// The matmul feeding `id`: the latest MatMul reached from it through
/// operands without crossing another MatMul; -1 when none.
NodeId feedingMatMul(const Graph &g, NodeId id) {
  std::vector<NodeId> stack = {id};
  std::vector<bool> seen(g.nodes.size(), false);
  NodeId best = -1;
  while (!stack.empty()) {
    NodeId n = stack.back();
    stack.pop_back();
    if (seen[n])
      continue;
    seen[n] = true;
    if (g[n].op == OpKind::MatMul) {
      best = std::max(best, n);
      continue;
    }
    for (NodeId in : g[n].inputs)
      stack.push_back(in);
  }
  return best;
}

int64_t perSample(const Node &n) {
  return n.type.hasBatch() ? n.type.numelPerSample() : n.type.numel();
}

/// Fills the weight and the source layer of `layer`, whose value is `id`.
void linkLayer(const Graph &g, NodeId id, const std::vector<NodeId> &nodes,
               NodeId input, PlaneLayer &layer) {
  NodeId mm = feedingMatMul(g, id);
  if (mm < 0)
    return;
  const Node &w = g[g[mm].inputs[1]];
  NodeId lhs = g[mm].inputs[0];
  int64_t in = perSample(g[lhs]);
  bool shaped = w.type.dims == std::vector<int64_t>{in, layer.width} ||
                (layer.width == 1 && w.type.dims == std::vector<int64_t>{in});
  if (w.op != OpKind::Param || !shaped)
    return;
  auto at = std::find(nodes.begin(), nodes.end(), lhs);
  if (lhs != input && at == nodes.end())
    return;
  layer.weight = w.name;
  layer.from = lhs == input ? -1 : at - nodes.begin();
}

} // namespace

PlaneModel planeModel(const Graph &forward) {
  std::optional<NodeId> pred = forward.output("pred");
  std::vector<NodeId> inputs = forward.leaves(OpKind::Input);
  if (!pred || inputs.size() != 1)
    throw UserError("nnc: error: model '" + forward.name +
                    "' needs one input and a prediction to be drawn");
  PlaneModel pm;
  pm.input = forward[inputs[0]].name;
  pm.inputWidth = perSample(forward[inputs[0]]);

  // Which nodes the prediction is computed from.
  std::vector<bool> keep(forward.nodes.size(), false);
  keep[*pred] = true;
  for (NodeId i = *pred; i >= 0; --i)
    if (keep[i])
      for (NodeId in : forward[i].inputs)
        keep[in] = true;

  std::vector<NodeId> nodes; // the hidden layers' values, in graph order
  for (NodeId i = 0; i < forward.size(); ++i) {
    const Node &n = forward[i];
    if (!keep[i] || n.op != OpKind::MatMul ||
        forward[n.inputs[1]].op != OpKind::Param)
      continue;
    NodeId lhs = n.inputs[0];
    if (lhs != inputs[0] && lhs != *pred &&
        std::find(nodes.begin(), nodes.end(), lhs) == nodes.end())
      nodes.push_back(lhs);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.push_back(*pred);

  Graph g = forward;
  g.outputs.clear();
  g.updates.clear();
  for (size_t k = 0; k < nodes.size(); ++k) {
    NodeId id = nodes[k];
    bool last = k + 1 == nodes.size();
    PlaneLayer layer;
    layer.name = last ? "pred"
                 : forward[id].name.empty() ? "layer " + std::to_string(k + 1)
                                            : forward[id].name;
    layer.output = last ? "pred" : "unit." + std::to_string(k);
    layer.width = perSample(forward[id]);
    linkLayer(forward, id, nodes, inputs[0], layer);
    g.outputs.push_back({layer.output, id});
    pm.layers.push_back(layer);
  }
  pm.graph = compactGraph(g, keep,
                          std::vector<NodeId>(forward.nodes.size(), -1));
  return pm;
}

PlaneBox planeBox(const Tensor &x) {
  NN_ASSERT(x.rank() == 2 && x.shape[1] == 2, "plane data must be [n, 2]");
  double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
  for (int64_t r = 0; r < x.shape[0]; ++r)
    for (int k = 0; k < 2; ++k) {
      double v = x[r * 2 + k];
      if (std::isfinite(v)) {
        lo[k] = std::min(lo[k], v);
        hi[k] = std::max(hi[k], v);
      }
    }
  for (int k = 0; k < 2; ++k) {
    if (!(lo[k] <= hi[k]))
      lo[k] = hi[k] = 0;
    double pad = hi[k] > lo[k] ? 0.1 * (hi[k] - lo[k]) : 0.5;
    lo[k] -= pad;
    hi[k] += pad;
  }
  return {lo[0], hi[0], lo[1], hi[1]};
}

PlaneGrid makeGrid(const PlaneBox &box, int64_t n) {
  NN_ASSERT(n >= 2, "a grid needs two points a side");
  PlaneGrid g;
  g.box = box;
  g.n = n;
  for (int64_t i = 0; i < n; ++i) {
    double t = static_cast<double>(i) / static_cast<double>(n - 1);
    g.xs.push_back(static_cast<float>(box.x0 + t * (box.x1 - box.x0)));
    g.ys.push_back(static_cast<float>(box.y1 - t * (box.y1 - box.y0)));
  }
  g.points = Tensor({n * n, 2});
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c) {
      g.points[(r * n + c) * 2] = g.xs[c];
      g.points[(r * n + c) * 2 + 1] = g.ys[r];
    }
  return g;
}

std::vector<Tensor> planeMaps(Executor &exec, const PlaneModel &pm,
                              const TensorMap &state, const Tensor &points) {
  TensorMap params;
  for (NodeId id : pm.graph.leaves(OpKind::Param))
    params[pm.graph[id].name] = state.at(pm.graph[id].name);
  exec.setState(params);
  Tensor x = points;
  TensorMap out = exec.run({{pm.input, std::move(x)}});
  std::vector<Tensor> maps;
  int64_t rows = points.shape.at(0);
  for (const PlaneLayer &l : pm.layers) {
    Tensor t = out.at(l.output);
    t.shape = {rows, l.width};
    maps.push_back(std::move(t));
  }
  return maps;
}

} // namespace nn
