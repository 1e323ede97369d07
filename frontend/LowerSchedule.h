//===- LowerSchedule.h - The schedule and clip_grad_norm settings -*- C++
//-*-===//
///
/// \file
/// The `schedule` and `clip_grad_norm` items of a train block, for
/// frontend/LowerTrain.cpp: each value checked, with located errors, into
/// the Recipe's Schedule and OptimizerSpec::clipGradNorm.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Ast.h"
#include "ir/Recipe.h"

namespace nn {

/// Whether `key` is one of the settings lowered here.
bool isScheduleSetting(const std::string &key);

/// `schedule step(every = 5, gamma = 0.5)`, `schedule cosine(epochs = 20,
/// min_lr = 0)`, `schedule warmup(steps = 100)`, `warmup(...) + step(...)`
/// or `+ cosine(...)`; and `clip_grad_norm 1.0`.
void lowerScheduleSetting(const TrainItem &item, Recipe &r, DiagEngine &diags);

/// After the whole block: a schedule scales the learning rate the
/// `optimizer` line gives, so it needs one that gives `lr` (an error at the
/// schedule otherwise); cosine's epochs default to the block's `epochs`.
void finishSchedule(const Stmt &train, Recipe &r, DiagEngine &diags);

} // namespace nn
