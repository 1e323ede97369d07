//===- Adam.cpp - Adam and AdamW ------------------------------------------===//
///
/// \file
/// Placeholder while the optimizer is being written.
///
//===----------------------------------------------------------------------===//

#include "passes/optim/Optimizer.h"

#include "ir/Support.h"

namespace nn {

void addAdamUpdates(OptimizerContext &c) {
  throw UserError("optimizer 'adam' is not implemented yet");
}

void addAdamwUpdates(OptimizerContext &c) {
  throw UserError("optimizer 'adamw' is not implemented yet");
}

} // namespace nn
