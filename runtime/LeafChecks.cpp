//===- LeafChecks.cpp - Checking values bound to a graph's leaves ---------===//

#include "runtime/LeafChecks.h"

#include "ir/Support.h"

#include <cmath>
#include <cstdio>

namespace nn {

void leafError(const Node &n, const std::string &msg) {
  std::string where = n.loc.valid() ? n.loc.str() + ": " : std::string();
  throw UserError(where + "error: " + msg);
}

std::string leafDesc(const Node &n) {
  return std::string(mnemonic(n.op)) + " '" + n.name + "'";
}

std::vector<int64_t> concreteDims(const TensorType &t, int64_t batch) {
  std::vector<int64_t> s = t.dims;
  for (int64_t &d : s)
    if (d == kBatch)
      d = batch;
  return s;
}

int64_t batchRows(const Graph &g, const TensorMap &batch) {
  int64_t rows = -1;
  const Node *from = nullptr;
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Input && n.op != OpKind::Label)
      continue;
    auto it = batch.find(n.name);
    if (it == batch.end())
      leafError(n, "no value given for " + leafDesc(n));
    if (!n.type.hasBatch() || it->second.shape.empty())
      continue;
    int64_t r = it->second.shape[0];
    if (from && r != rows)
      leafError(n, leafDesc(n) + " has " + std::to_string(r) + " rows but " +
                       leafDesc(*from) + " has " + std::to_string(rows));
    rows = r;
    from = &n;
  }
  return rows < 0 ? 1 : rows;
}

void checkLeafValue(const Node &n, const Tensor &t, int64_t rows) {
  std::vector<int64_t> want = concreteDims(n.type, rows);
  if (t.shape != want)
    leafError(n, "value for " + leafDesc(n) + " has shape " +
                     dimsStr(t.shape) + " but its type " + n.type.str() +
                     " needs " + dimsStr(want));
  if (t.data.size() != static_cast<size_t>(Tensor::numelOf(want)))
    leafError(n, "value for " + leafDesc(n) + " has " +
                     std::to_string(t.data.size()) + " elements but shape " +
                     dimsStr(want) + " needs " +
                     std::to_string(Tensor::numelOf(want)));
  if (n.op != OpKind::Label || n.labelKind != LabelKind::Class)
    return;
  for (size_t r = 0; r < t.data.size(); ++r) {
    float v = t.data[r];
    char num[32];
    std::snprintf(num, sizeof num, "%g", v);
    std::string what =
        " (label '" + n.name + "', row " + std::to_string(r) + ")";
    if (!std::isfinite(v) || v != std::floor(v))
      leafError(n, "label " + std::string(num) + " is not a class id" + what);
    if (v < 0 || v >= static_cast<float>(n.classes))
      leafError(n, "label " + std::string(num) + " out of range for class(" +
                       std::to_string(n.classes) + ")" + what);
  }
}

void checkStateLeaves(const Graph &g, const TensorMap &state) {
  for (OpKind kind : {OpKind::Param, OpKind::State})
    for (NodeId id : g.leaves(kind)) {
      const Node &n = g[id];
      auto it = state.find(n.name);
      NN_ASSERT(it != state.end(), "no value for '" + n.name + "'");
      NN_ASSERT(it->second.shape == n.type.dims,
                "wrong shape for '" + n.name + "'");
      NN_ASSERT(it->second.data.size() == static_cast<size_t>(n.type.numel()),
                "wrong size for '" + n.name + "'");
    }
}

NodeId scalarStateLeaf(const Graph &g, const std::string &name) {
  std::optional<NodeId> id = g.findLeaf(OpKind::State, name);
  NN_ASSERT(id && g[*id].type.isScalar(),
            "no scalar state leaf '" + name + "' to set");
  return *id;
}

} // namespace nn
