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
};

inline bool inRange(HyperRange r, double v) {
  switch (r) {
  case HyperRange::Positive:
    return v > 0;
  case HyperRange::UnitInterval:
    return v >= 0 && v < 1;
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

  /// Whether `m` is a momentum nnc accepts: in [0, 1) ("momentum must be in
  /// [0, 1)" otherwise, from the .nn file and from --momentum alike).
  static bool validMomentum(double m) {
    return inRange(HyperRange::UnitInterval, m);
  }
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
