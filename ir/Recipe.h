//===- Recipe.h - The training recipe of a model ---------------*- C++ -*-===//
///
/// \file
/// What the `train { ... }` block of a `.nn` file says, after defaults and
/// command-line overrides. The frontend fills it; the optimizer pass
/// (passes/optim/) reads the optimizer, the trainer reads the rest.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nn {

/// Where samples come from.
struct DataSource {
  enum class Format { None, Idx, Csv };
  Format format = Format::None;
  /// Idx: a prefix such as ".../fashion-mnist/train", completed to
  /// "-images-idx3-ubyte[.gz]" and "-labels-idx1-ubyte[.gz]"; or a directory
  /// holding those. Csv: the file. Relative paths are relative to the .nn
  /// file's directory.
  std::string path;
  /// Csv: the label columns' names, in order; empty = the last column.
  std::vector<std::string> labelColumns;
  SrcLoc loc;
};

/// The values a hyperparameter of ir/Optimizers.def accepts.
enum class HyperRange {
  Positive,     // > 0
  UnitInterval, // in [0, 1)
  NonNegative,  // >= 0
  Bool,         // true (1) or false (0)
};

inline bool inRange(HyperRange r, double v) {
  switch (r) {
  case HyperRange::Positive:
    return v > 0;
  case HyperRange::UnitInterval:
    return v >= 0 && v < 1;
  case HyperRange::NonNegative:
    return v >= 0;
  case HyperRange::Bool:
    return v == 0 || v == 1;
  }
  return false;
}

/// "positive", "in [0, 1)": completes "<what> must be ...".
inline const char *rangeText(HyperRange r) {
  switch (r) {
  case HyperRange::Positive:
    return "positive";
  case HyperRange::UnitInterval:
    return "in [0, 1)";
  case HyperRange::NonNegative:
    return "non-negative";
  case HyperRange::Bool:
    return "true or false";
  }
  return "";
}

/// The optimizer and its hyperparameters: one field per hyperparameter row
/// of ir/Optimizers.def, with its default.
struct OptimizerSpec {
  enum class Kind {
#define NN_OPTIMIZER(Kind, Name, Params, Example) Kind,
#include "ir/Optimizers.def"
  };
  Kind kind{}; // the table's first row

#define NN_HYPERPARAM(Field, Name, Default, Range, What) double Field = Default;
#include "ir/Optimizers.def"

  /// clip_grad_norm's max_norm (torch.nn.utils.clip_grad_norm_): the
  /// gradients of all parameters scaled together so that their total 2-norm
  /// is at most this; 0 = no clipping.
  double clipGradNorm = 0;

  /// Whether `m` is a momentum nnc accepts: in [0, 1) ("momentum must be in
  /// [0, 1)" otherwise, from the .nn file and from --momentum alike).
  static bool validMomentum(double m) {
    return inRange(HyperRange::UnitInterval, m);
  }
};

/// The learning-rate schedule of the `schedule` train setting, computed on
/// the host per step (PyTorch's schedulers stepped per epoch, warm-up per
/// step): lr(step, epoch) = base lr * warm-up factor * decay factor.
struct Schedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  int64_t every = 1;   // Step: StepLR's step_size, in epochs
  double gamma = 0.1;  // Step: StepLR's gamma
  int64_t epochs = 1;  // Cosine: CosineAnnealingLR's T_max, in epochs (the
                       // train block's `epochs` when not given)
  double minLr = 0;    // Cosine: eta_min
  int64_t warmupSteps = 0; // linear warm-up over the first steps; 0 = none
  SrcLoc loc;
};

struct EarlyStop {
  bool enabled = false;
  int patience = 3;
  double minDelta = 0.0;
  bool restoreBest = true;
};

struct Recipe {
  DataSource data;
  DataSource test;
  OptimizerSpec optimizer;
  Schedule schedule;
  int64_t batch = 32;
  int64_t epochs = 1;
  double l2 = 0.0;         // lambda: loss += lambda * sum of squared weights
  double validation = 0.0; // fraction of the training data held out
  SrcLoc validationLoc;    // its value in the .nn file; none from a flag
  uint64_t seed = 0;
  bool shuffle = true;
  EarlyStop earlyStop;
  SrcLoc loc; // the train block
};

} // namespace nn
