//===- TrainingPlot.h - Loss and accuracy curves as SVG --------*- C++ -*-===//
///
/// \file
/// The curves of a training run (per epoch: train and validation loss and
/// accuracy), from the trainer's history or from the metrics CSV that
/// `nnc train --metrics` writes, drawn as a self-contained SVG by nnc
/// itself: `nnc train --plot FILE.svg` and the report page use it.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Trainer.h"

#include <string>
#include <vector>

namespace nn {

/// Per-epoch values; NaN where a run has none (no validation split, real
/// labels without accuracy).
struct TrainingCurves {
  std::vector<double> epoch;
  std::vector<double> trainLoss, trainAccuracy;
  std::vector<double> valLoss, valAccuracy;
};

TrainingCurves curvesFromHistory(const std::vector<EpochStats> &history);

/// Reads the CSV of `nnc train --metrics` (header epoch, step, train_loss,
/// train_accuracy, val_loss, val_accuracy, seconds). Throws UserError
/// naming the file and line when it cannot be read or is malformed.
TrainingCurves readMetricsCsv(const std::string &path);

/// Two panels, loss and accuracy against the epoch, each curve (train,
/// validation) one <path> element; a curve with no finite value is left
/// out, and a panel with no curve says so. Well-formed XML.
std::string plotSvg(const TrainingCurves &c, const std::string &title);

/// A run's curves and its name in a legend.
struct NamedCurves {
  std::string name;
  TrainingCurves curves;
};

/// The same two panels for several runs side by side: each run one colour,
/// its train curve solid and its validation curve dashed, each over its
/// own epochs.
std::string plotCompareSvg(const std::vector<NamedCurves> &runs,
                           const std::string &title);

} // namespace nn
