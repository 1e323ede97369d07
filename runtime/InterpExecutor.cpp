//===- InterpExecutor.cpp - The reference interpreter as a backend --------===//
///
/// \file
/// Runs graphs on runtime/Interpreter: double precision inside, float32 state
/// between steps (as every compiled backend keeps it).
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/Executor.h"
#include "runtime/Interpreter.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "runtime/CpuExecutor.h"
#endif
#include "codegen/cuda/CudaDriver.h"
#ifdef NNC_HAVE_CUDA_BACKEND
#include "runtime/CudaExecutor.h"
#endif

#include <algorithm>

namespace nn {

namespace {

class InterpExecutor : public Executor {
public:
  explicit InterpExecutor(const Graph &g) : interp(g), graph(g) {}

  void setState(const TensorMap &s) override {
    for (OpKind kind : {OpKind::Param, OpKind::State})
      for (NodeId id : graph.leaves(kind)) {
        const Node &n = graph[id];
        auto it = s.find(n.name);
        NN_ASSERT(it != s.end(), "no value for '" + n.name + "'");
        NN_ASSERT(it->second.shape == n.type.dims,
                  "wrong shape for '" + n.name + "'");
      }
    held = s;
  }

  const TensorMap &state() const override { return held; }

  TensorMap run(const TensorMap &batch) override {
    ValueMap leaves;
    for (const auto &[name, t] : held)
      leaves[name] = toValue(t);
    for (const auto &[name, t] : batch)
      leaves[name] = toValue(t);
    Interpreter::Result r = interp.step(leaves);
    for (auto &[name, v] : r.updates)
      held[name] = toTensor(v);
    TensorMap out;
    for (auto &[name, v] : r.outputs)
      out[name] = toTensor(v);
    return out;
  }

private:
  Interpreter interp;
  Graph graph;
  TensorMap held;
};

} // namespace

std::vector<std::string> backendNames() {
  std::vector<std::string> names = {"interp"};
#ifdef NNC_HAVE_CPU_BACKEND
  names.push_back("cpu");
#endif
#ifdef NNC_HAVE_CUDA_BACKEND
  names.push_back("cuda");
#endif
  return names;
}

std::string resolveBackend(const std::string &requested, std::string *why) {
  if (requested != "auto")
    return requested;
  std::string reason = cudaUnavailableReason();
  if (reason.empty())
    return "cuda";
  std::vector<std::string> names = backendNames();
  std::string fallback =
      std::find(names.begin(), names.end(), "cpu") != names.end() ? "cpu"
                                                                  : "interp";
  if (why)
    *why = "no CUDA device: " + reason;
  return fallback;
}

void checkBackend(const std::string &backend) {
  std::vector<std::string> names = backendNames();
  // No driver, no GPU, or a build without the CUDA toolkit.
  if (backend == "cuda") {
    std::string why = cudaUnavailableReason();
    if (!why.empty())
      throw UserError("nnc: error: no CUDA device found (" + why +
                      "); use --backend=" +
                      (names.size() > 1 && names[1] == "cpu" ? "cpu"
                                                             : "interp"));
  }
  if (std::find(names.begin(), names.end(), backend) != names.end())
    return;
  std::string list;
  for (const std::string &n : names)
    list += (list.empty() ? "" : ", ") + n;
  if (backend == "cpu" || backend == "cuda")
    throw UserError("nnc: error: the '" + backend +
                    "' backend is not built yet; use --backend=interp");
  throw UserError("nnc: error: unknown backend '" + backend +
                  "' (available: " + list + ")");
}

std::unique_ptr<Executor> makeExecutor(const std::string &backend,
                                       const Graph &g) {
  checkBackend(backend);
#ifdef NNC_HAVE_CPU_BACKEND
  if (backend == "cpu")
    return makeCpuExecutor(g, cpuExecutorOptions());
#endif
#ifdef NNC_HAVE_CUDA_BACKEND
  if (backend == "cuda")
    return makeCudaExecutor(g, cudaExecutorOptions());
#endif
  return std::make_unique<InterpExecutor>(g);
}

} // namespace nn
