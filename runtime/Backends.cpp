//===- Backends.cpp - Which backends this build offers --------------------===//
///
/// \file
/// The backend registry: the names this build was configured with, what
/// "auto" resolves to, and makeExecutor, which hands each backend its part
/// of the ExecutorOptions.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaDriver.h"
#include "ir/Support.h"
#include "runtime/Executor.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "runtime/CpuExecutor.h"
#endif
#ifdef NNC_HAVE_CUDA_BACKEND
#include "runtime/CudaExecutor.h"
#endif

#include <algorithm>

namespace nn {

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
      throw UserError(
          "nnc: error: no CUDA device found (" + why + "); use --backend=" +
          (names.size() > 1 && names[1] == "cpu" ? "cpu" : "interp"));
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
                                       const Graph &g,
                                       const ExecutorOptions &opts) {
  checkBackend(backend);
#ifdef NNC_HAVE_CPU_BACKEND
  if (backend == "cpu")
    return makeCpuExecutor(g, opts.cpu);
#endif
#ifdef NNC_HAVE_CUDA_BACKEND
  if (backend == "cuda")
    return makeCudaExecutor(g, opts.cuda);
#endif
  (void)opts; // the interpreter has no options
  return makeInterpExecutor(g);
}

} // namespace nn
