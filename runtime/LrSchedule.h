//===- LrSchedule.h - The learning rate of each step ------------*- C++ -*-===//
///
/// \file
/// The `schedule` train setting computed on the host, from the global step
/// and the epoch alone (so a resumed run continues bit for bit), and written
/// by the trainer into the step graph's "optimizer.lr" leaf before each
/// step. The PyTorch equivalents, base lr = the optimizer's lr:
///   step(every, gamma):  StepLR(step_size = every, gamma) stepped per epoch
///   cosine(epochs, min_lr): CosineAnnealingLR(T_max = epochs,
///                        eta_min = min_lr) stepped per epoch (its closed
///                        form: past T_max the lr rises again, as PyTorch's)
///   warmup(steps):       LambdaLR(lambda s: min(1, (s + 1) / steps))
///                        stepped per batch
///   warmup + step/cosine: the product, LambdaLR(lambda s: warmup(s) *
///                        decay(s // batches_per_epoch) / base) per batch
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Recipe.h"

#include <cstdint>

namespace nn {

/// The lr of `r` at global step `step` (0-based: steps done before it) of
/// epoch `epoch` (0-based): base lr x warm-up factor x decay factor.
double scheduledLr(const Recipe &r, int64_t step, int64_t epoch);

/// Whether `r` has a schedule (the lr changes during training).
bool hasSchedule(const Recipe &r);

} // namespace nn
