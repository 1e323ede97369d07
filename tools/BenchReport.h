//===- BenchReport.h - What nnc bench measures and prints ------*- C++ -*-===//
///
/// \file
/// The parts of `nnc bench` that do not depend on the backend: the flags
/// (batch sizes, fusion sets), medians and ranges, each kernel's FLOPs and
/// bytes, the check that every variant computed the same step, and the table
/// or JSON object printed at the end. tools/BenchCommand.cpp times the CPU
/// backend, tools/CudaBench.cpp the CUDA backend; both fill BenchResults.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Tensor.h"
#include "tools/Driver.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

struct Timing {
  double median = 0, min = 0, max = 0; ///< seconds
};

/// Median, min and max of `seconds` (not empty).
Timing summarize(std::vector<double> seconds);

/// The timing loop of nnc bench, for every backend: `warmup + repeats`
/// rounds, each running every one of `variants` once in order (interleaved,
/// so that a noisy period of the machine hits them all alike).
/// `run(i, timed)` runs variant i; `timed` is false in the warmup rounds.
template <class Run>
void benchRounds(size_t variants, int64_t warmup, int64_t repeats, Run run) {
  for (int64_t r = 0; r < warmup + repeats; ++r)
    for (size_t i = 0; i < variants; ++i)
      run(i, r >= warmup);
}

/// One kernel call of the step: its function name, FLOPs, bytes and time.
struct KernelInfo {
  std::string name;
  double flops = 0, bytes = 0;
  Timing time;
};

/// Bytes node `id` reads and writes at `batch`: each operand once, the
/// result once (scalar constants are inlined: free).
double nodeBytes(const Graph &g, NodeId id, int64_t batch);

/// One variant (batch size, fusion set) as measured.
struct BenchResult {
  int64_t batch = 0;
  std::string fuse;
  Timing step;
  double flops = 0, bytes = 0; ///< bytes: the sum over its kernels
  std::vector<KernelInfo> kernels;
  int64_t arenaBytes = 0;
  double compileCold = 0, compileCached = 0; ///< seconds
};

/// What the numbers were measured on, for the heading.
struct BenchSetup {
  std::string model;
  std::string backend;  ///< "cpu", "cuda"
  std::string device;   ///< the CPU's or the GPU's name
  int threads = 0;      ///< CPU threads (0: not a CPU run)
  std::string precision = "fp32"; ///< of the products, and of the peak
  double peakGflops = 0;
  std::string peakNote; ///< how the peak was found
  std::string timedBy;  ///< "steady_clock", "CUDA events"
  int64_t repeats = 0, warmup = 0;
};

/// Prints the step table, the unfused/fused ratios and each variant's
/// kernels; or, with `json`, one object with the same rows.
void printBench(const BenchSetup &setup, const std::vector<BenchResult> &rs,
                bool json);

/// The --batch list ("64,256"): throws UserError naming the flag.
std::vector<int64_t> parseBatches(const std::string &spec);
/// The --fuse sets ("all;none", each checked): throws UserError.
std::vector<std::string> parseFuseSets(const std::string &spec);

/// A batch of `batch` samples for the Input and Label leaves of `g`: inputs
/// uniform in [0, 1), labels valid for their kind; the same values for
/// every variant of a model (same seed, leaves in graph order).
TensorMap benchBatch(const Graph &g, uint64_t seed, int64_t batch);

/// "" when `a` and `b` agree to float rounding, else the first difference.
std::string disagreement(const TensorMap &a, const TensorMap &b);

/// Throws UserError unless every variant of a batch size computed the same
/// step (`results[i]`: outputs and updated leaves of variant i).
void checkVariantsAgree(const std::vector<BenchResult> &rs,
                        const std::vector<TensorMap> &results);

/// `nnc bench --backend=cuda` (tools/CudaBench.cpp): the same variants
/// and report, timed on the GPU. Throws UserError "no CUDA device found"
/// where there is none (or the build has no CUDA backend).
int runCudaBench(const LoadedModel &m, const std::vector<int64_t> &batches,
                 const std::vector<std::string> &fuses, int64_t repeats,
                 int64_t warmup, bool tf32, bool json);

} // namespace nn
