//===- Play.h - The playground page of a small model -----------*- C++ -*-===//
///
/// \file
/// `nnc play`: one self-contained HTML page (inline CSS, JavaScript and
/// canvas drawing; nothing fetched) where a student scrubs through a
/// training run. For a model with two input features: the data over the
/// input plane, the prediction as a heat map and every hidden unit's own
/// map, laid out by layer with the weights as lines, at each recorded
/// moment; the numbers of every map come from the compiled forward function
/// (runtime/PlaneModel.h). For other models: why the plane cannot be drawn,
/// and the first layer's weight vectors as images. Both: the loss and
/// accuracy curves with the moment marked, and the moment's training step
/// written out as scalar arithmetic when the model is small enough.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/FrameRecorder.h"
#include "runtime/PlaneModel.h"
#include "tools/Driver.h"

#include <string>
#include <vector>

namespace nn {

/// What the page shows, as the command computed it.
struct PlayRun {
  std::string model;   ///< the model's name
  std::string path;    ///< its file
  std::string backend; ///< the backend that trained it and drew the maps
  std::vector<RecordedState> frames;
  int64_t perEpoch = 1; ///< steps in an epoch (a frame's epoch + batch / this)
  std::vector<EpochStats> history;
  LabelKind labelKind = LabelKind::Binary;
  int64_t classes = 0;

  /// The plane view; `why` says why there is none when `plane` is false.
  bool plane = false;
  std::string why;
  PlaneModel pm;
  PlaneGrid grid;
  std::vector<std::vector<Tensor>> maps; ///< per frame, per layer
  Tensor dataX, dataY;                   ///< the training data drawn

  /// Other models: the first layer's weights ([in, out] Param `weight`),
  /// its vectors drawn as images `side` x `side` when `in` is a square.
  std::string weight;
  int64_t in = 0, out = 0;

  /// Per frame: one training step from its parameters (explain --scalar);
  /// empty with `scalarNote` saying why when the model is too big.
  std::vector<std::string> scalar;
  std::string scalarNote;
};

/// The page.
std::string playHtml(const PlayRun &r);

/// The side of the hidden units' maps on the page for a grid of n x n: at
/// most 32 (they are drawn small; the prediction keeps every point).
inline int64_t hiddenSide(int64_t n) { return n < 32 ? n : 32; }

} // namespace nn
