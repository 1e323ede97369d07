//===- RunSteps.cpp - Executor::runSteps, step by step --------------------===//
///
/// \file
/// The default run of K steps: each batch gathered on the host, bound to the
/// graph's leaves and run with run(), as the trainer's own loop does.
///
//===----------------------------------------------------------------------===//

#include "runtime/Batcher.h"
#include "runtime/Executor.h"
#include "runtime/Trainer.h"

#include <cmath>
#include <cstring>

namespace nn {

StepsDone Executor::runSteps(const StepsJob &job) {
  StepsDone d;
  int64_t rows = static_cast<int64_t>(job.order->size());
  for (int64_t k = 0; k < job.steps; ++k) {
    int64_t begin = (job.first + k) * job.batch;
    int64_t n = std::min(job.batch, rows - begin);
    TensorMap feed =
        bindBatch(*job.graph, gatherBatch(*job.x, *job.order, begin, n),
                  gatherBatch(*job.y, *job.order, begin, n));
    if (!job.lr.empty())
      setScalar(job.lrLeaf, job.lr[static_cast<size_t>(k)]);
    TensorMap out = run(feed);
    float loss = out.at("loss")[0];
    d.loss.push_back(loss);
    if (auto it = out.find("pred"); it != out.end()) {
      const Tensor &pred = it->second;
      d.predWidth = n > 0 ? pred.numel() / n : 0;
      d.pred.resize(static_cast<size_t>((k + 1) * job.batch * d.predWidth));
      std::memcpy(d.pred.data() + k * job.batch * d.predWidth,
                  pred.data.data(), pred.data.size() * sizeof(float));
    }
    ++d.steps;
    if (!std::isfinite(loss))
      break;
  }
  return d;
}

} // namespace nn
