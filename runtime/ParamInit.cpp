//===- ParamInit.cpp - First values of parameters -------------------------===//

#include "runtime/ParamInit.h"

#include "ir/Support.h"
#include "runtime/Rng.h"

#include <cmath>

namespace nn {

namespace {

Tensor initParam(const Node &n, Rng &rng) {
  Tensor t(n.type.dims);
  double fanIn = 1, fanOut = 1;
  const std::vector<int64_t> &d = n.type.dims;
  if (d.size() == 4) { // a conv2d kernel [out, in, kh, kw], as PyTorch's
    double field = static_cast<double>(d[2] * d[3]);
    fanIn = static_cast<double>(d[1]) * field;
    fanOut = static_cast<double>(d[0]) * field;
  } else {
    fanIn = d.size() >= 1 ? static_cast<double>(d[0]) : 1;
    fanOut = d.size() >= 2 ? static_cast<double>(d[1]) : 1;
  }
  auto fill = [&](auto draw) {
    for (float &v : t.data)
      v = static_cast<float>(draw());
  };
  switch (n.init.kind) {
  case InitKind::Zeros:
    break;
  case InitKind::Constant:
    fill([&] { return n.init.a; });
    break;
  case InitKind::Values:
    NN_ASSERT(static_cast<int64_t>(n.values.size()) == t.numel(),
              "initial values of '" + n.name + "' do not match its shape");
    for (int64_t i = 0; i < t.numel(); ++i)
      t[i] = static_cast<float>(n.values[i]);
    break;
  case InitKind::Uniform:
    fill([&] { return rng.uniform(n.init.a, n.init.b); });
    break;
  case InitKind::Normal:
    fill([&] { return rng.normal(n.init.a, n.init.b); });
    break;
  case InitKind::Xavier: {
    double r = std::sqrt(6.0 / (fanIn + fanOut));
    fill([&] { return rng.uniform(-r, r); });
    break;
  }
  case InitKind::He: {
    double r = std::sqrt(6.0 / fanIn);
    fill([&] { return rng.uniform(-r, r); });
    break;
  }
  }
  return t;
}

/// Zeros, or the leaf's own first values (the learning rate's).
Tensor initStateLeaf(const Node &n) {
  Tensor t(n.type.dims);
  if (n.values.empty())
    return t;
  NN_ASSERT(static_cast<int64_t>(n.values.size()) == t.numel(),
            "initial values of '" + n.name + "' do not match its shape");
  for (int64_t i = 0; i < t.numel(); ++i)
    t[i] = static_cast<float>(n.values[i]);
  return t;
}

} // namespace

TensorMap initState(const Graph &g, uint64_t seed) {
  Rng rng(seed);
  TensorMap out;
  for (NodeId id : g.leaves(OpKind::Param))
    out[g[id].name] = initParam(g[id], rng);
  for (NodeId id : g.leaves(OpKind::State))
    out[g[id].name] = initStateLeaf(g[id]);
  return out;
}

} // namespace nn
