//===- TrainChunks.cpp - Runs of steps in one call ------------------------===//
///
/// \file
/// The epoch program's side of the training loop: where the backend runs
/// steps in one call (Executor::compiledSteps), the steps between two
/// moments the host must act run as one chunk. A chunk starts where a
/// snapshot is due (so a non-finite step is replayed from the snapshot at
/// its start, as in the step-by-step loop) and ends before the next one, at
/// the epoch's end, or at --steps. SIGINT/SIGTERM are seen at a chunk's end.
/// After the call each step is checked and counted as step() does, in
/// order: the same loss sums, accuracy counts, progress and checkpoints.
///
//===----------------------------------------------------------------------===//

#include "runtime/TrainRun.h"

#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/LrSchedule.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nn {

int64_t TrainRun::chunkSteps() const {
  int64_t k = std::min(perEpoch - p.batch, snapBatch + kSnapshotSteps - p.batch);
  if (opts.maxSteps >= 0)
    k = std::min(k, opts.maxSteps - p.step);
  if (stateStep > p.step) // the observer wants the state there
    k = std::min(k, stateStep - p.step);
  NN_ASSERT(k >= 1, "empty chunk");
  return k;
}

void TrainRun::runChunk() {
  setLr(p.step, p.epoch); // before the snapshot, which then holds it
  snapshotIfDue();
  if (orderEpoch != p.epoch) {
    order = batcher.epochOrder(p.epoch);
    orderEpoch = p.epoch;
  }
  const Dataset &data = batcher.dataset();
  StepsJob job;
  job.graph = &s.step;
  job.x = &data.x;
  job.y = &data.y;
  job.order = &order;
  job.batch = batcher.batchSize();
  job.first = p.batch;
  job.steps = chunkSteps();
  if (hasLrLeaf) {
    job.lrLeaf = kLrLeaf;
    for (int64_t i = 0; i < job.steps; ++i)
      job.lr.push_back(scheduledLr(s.recipe, p.step + i, p.epoch));
  }
  Clock::time_point t0 = Clock::now();
  StepsDone d = exec->runSteps(job);
  Clock::duration took = Clock::now() - t0;
  NN_ASSERT(d.steps >= 1 && d.steps <= job.steps, "no step run");
  // Progress rates see each step end at its share of the chunk's time.
  for (int64_t i = 0; i < d.steps; ++i, ++p.batch)
    countChunkStep(d, i, job.batch, t0 + took * (i + 1) / d.steps);
}

void TrainRun::countChunkStep(const StepsDone &d, int64_t i,
                              int64_t batchSize, Clock::time_point done) {
  int64_t begin = p.batch * batchSize;
  int64_t n = std::min(batchSize, static_cast<int64_t>(order.size()) - begin);
  double loss = d.loss[static_cast<size_t>(i)];
  // A chunk ends where step() scans the parameters (a snapshot due next,
  // the epoch's or the run's last step): checkStep scans there; within the
  // chunk only the loss is checked, as step() does.
  if (i + 1 == d.steps)
    checkStep({}, loss);
  else if (!std::isfinite(loss))
    replayBadSteps();
  Tensor pred({n, d.predWidth});
  if (d.predWidth > 0)
    std::memcpy(pred.data.data(), d.pred.data() + i * batchSize * d.predWidth,
                pred.data.size() * sizeof(float));
  Tensor labels = gatherBatch(batcher.dataset().y, order, begin, n);
  p.lossSum += loss * static_cast<double>(n);
  p.correct += countCorrect(s.step, pred, labels);
  p.samples += n;
  ++p.step;
  reportBatch(done);
}

} // namespace nn
