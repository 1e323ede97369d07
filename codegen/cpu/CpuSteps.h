//===- CpuSteps.h - A compiled run of K training steps ---------*- C++ -*-===//
///
/// \file
/// The "run K steps" entry point of a training step graph (EmitEpoch.cpp),
/// free of LLVM types: next to `<symbol>`, the module of a step graph with
/// one Input, one Label and an output "loss" holds
///
///   int64_t <symbol>_steps(const CpuStepsArgs *args)
///
/// which, for k = 0..steps-1, gathers batch first+k (the rows order[(first+k)
/// * batch ...], the last batch partial) from the whole data set into the
/// Input and Label leaves' buffers, stores lr[k] into the "optimizer.lr"
/// leaf (when the graph has one), calls the step, and writes the step's loss
/// (and its "pred" rows, when the graph has that output) into per-step
/// arrays. It returns the number of steps run: `steps`, or k+1 when the loss
/// of step k is not finite (the caller explains that step).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <string>

namespace nn {

namespace cpu {
class ModuleEmitter;
} // namespace cpu

struct CpuEntry;

/// The argument block of `<symbol>_steps`: all fields 8 bytes, in this
/// order (the generated code reads them by index).
struct CpuStepsArgs {
  /// The step's leaf array (cpuLeafOrder): the Input and Label slots point
  /// at buffers of `batch` rows that the gather fills.
  const float *const *leaves = nullptr;
  float *arena = nullptr;
  const float *x = nullptr; ///< every sample, rows first
  const float *y = nullptr; ///< every label, rows first
  const int64_t *order = nullptr; ///< the epoch's rows, `rows` of them
  int64_t rows = 0;
  int64_t batch = 0; ///< rows of a full batch
  int64_t first = 0; ///< the epoch's batch index of the first step
  int64_t steps = 0;
  const float *lr = nullptr; ///< per step (read when the graph has an lr)
  float *loss = nullptr;     ///< per step, out
  float *pred = nullptr; ///< per step, `batch` rows of "pred", out; or null
};

using CpuStepsFn = int64_t (*)(const CpuStepsArgs *args);

/// "<graph name>_step_steps": the symbol of the steps entry of `g`'s module.
std::string cpuStepsSymbol(const Graph &g);

namespace cpu {
/// Adds `<e.symbol>_steps` to the module when `e`'s graph can have one (one
/// Input and one Label leaf with a batch dimension, a scalar output "loss"
/// in the arena, updates); after emitEntry(e).
void emitStepsEntry(ModuleEmitter &me, const CpuEntry &e);
} // namespace cpu

} // namespace nn
