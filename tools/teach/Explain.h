//===- Explain.h - The teaching views of a model ---------------*- C++ -*-===//
///
/// \file
/// The text of `nnc summary`, of `nnc explain` (layer by layer: forward and
/// backward equations as autodiff derived them, shapes, IR nodes, fused
/// kernels, FLOPs) and of `nnc explain --scalar` (one training step as
/// scalar multiply-adds). The report page shows the same text.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Interpreter.h"
#include "runtime/ScalarStep.h"
#include "tools/Driver.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// `nnc summary`: one row per statement (output shape, parameters, FLOPs
/// per sample forward and backward), totals, the 6 x params rule, arena.
std::string summaryText(const LoadedModel &m);

/// `nnc explain`: every statement of the model with its forward, backward
/// and update equations, then the FLOP totals per sample and per epoch
/// beside the 6 x params x samples rule. `samples` is the number of
/// training samples per epoch; -1 reads the recipe's data (after the
/// validation split), and when that cannot be read the per-epoch lines say
/// why instead.
std::string explainModel(const LoadedModel &m, int64_t samples);

/// `nnc explain --scalar`: one training step on the first batch of the
/// recipe's data (file order, after the validation split) from the
/// initial parameters, as scalar arithmetic (runtime/ScalarStep.h). Throws
/// UserError for a model too big to write out.
std::string explainScalar(const LoadedModel &m);

/// The leaves of one training step of `g`: the initial parameters and
/// optimizer state (from the recipe's seed) and the first batch of the
/// recipe's training rows (after the validation split) in file order, whose
/// row numbers go to `rows`. Throws UserError when the data cannot be read,
/// does not fit the model, or has more than `maxRows` rows in the batch
/// (-1: any).
/// The inputs and labels of a batch of `rows` samples (one line per sample
/// A, B, ...), then the parameters before the step, as explain --scalar
/// writes them.
std::string scalarLeavesText(const Graph &g, const ValueMap &leaves,
                             size_t rows);

/// The lines of one step (runtime/ScalarStep.h) under a heading per section
/// (forward, loss, backward, the update of optimizer `opt`).
std::string scalarStepText(const std::vector<ScalarLine> &lines,
                           const OptimizerSpec &opt);

ValueMap firstStepLeaves(const LoadedModel &m, const Graph &g, int64_t maxRows,
                         std::vector<int64_t> *rows);

} // namespace nn
