//===- Resume.h - What a checkpoint must match to be resumed ----*- C++ -*-===//
///
/// \file
/// A checkpoint records, beside the weights and the progress, the model it
/// was written for (a line per node of the forward graph) and the optimizer
/// settings. Resuming refuses a checkpoint of a changed model, naming the
/// first node that differs, and reports (but allows) a changed learning rate
/// or momentum. A weights file given to --resume is named as such.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Recipe.h"
#include "runtime/WeightsFile.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace nn {

/// One line per node of `g`: op, operands, type, leaf names, constants.
/// Source locations are left out, so that editing comments keeps it.
std::vector<std::string> graphFingerprint(const Graph &g);

/// The metadata a checkpoint of `forward` trained by `r` carries to be
/// checked on resume: "graph", "optimizer", "lr", "momentum".
Metadata checkpointIdentity(const Graph &forward, const Recipe &r);

/// Throws UserError when `path` is not an nnc checkpoint: a weights file
/// (from --save) says so, and points at --init. (The caller adds a note on
/// an intact `path.prev`.)
/// Returns the checkpoint's metadata.
Metadata requireCheckpoint(const std::string &path);

/// The checkpoint (metadata `m`) was trained with momentum 0, so it has no
/// momentum buffers: a run resumed with momentum starts them at zero.
bool trainedWithoutMomentum(const Metadata &m);

/// Throws UserError when checkpoint metadata `m` (of `path`) was written for
/// a model other than `forward`, naming the first node that differs; writes
/// a note to `log` (when not null) for each optimizer setting of `r` that
/// differs from the checkpoint's. Checkpoints without a "graph" field
/// (older nnc) are not checked.
void checkResumeIdentity(const Metadata &m, const std::string &path,
                         const Graph &forward, const Recipe &r,
                         std::ostream *log);

/// Says on `out` when a run will train less than asked: a resumed
/// checkpoint (`resumePath`) at `epoch` (0-based, under way) that has done
/// all `epochs` already (a warning), or `maxSteps` (-1: none) beyond the
/// steps left in the epochs (a note: the epochs bound the run). `batch` is
/// the next batch of the epoch, `step` the steps done.
void warnAboutLength(std::ostream &out, int64_t epoch, int64_t batch,
                     int64_t step, int64_t perEpoch, int64_t epochs,
                     int64_t maxSteps, const std::string &resumePath);

} // namespace nn
