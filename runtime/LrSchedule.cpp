//===- LrSchedule.cpp - The learning rate of each step --------------------===//
///
/// \file
/// Algorithm: the closed forms of PyTorch's schedulers, in double:
///   warm-up factor  min(1, (step + 1) / steps)
///   step            base * gamma ^ floor(epoch / every)
///   cosine          min_lr + (base - min_lr) * (1 + cos(pi * epoch / T)) / 2
///
//===----------------------------------------------------------------------===//

#include "runtime/LrSchedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nn {

namespace {

/// The lr of the decaying part alone, at `epoch`.
double decayedLr(const Schedule &s, double base, int64_t epoch) {
  switch (s.kind) {
  case Schedule::Kind::Constant:
    return base;
  case Schedule::Kind::Step:
    return base * std::pow(s.gamma, static_cast<double>(epoch / s.every));
  case Schedule::Kind::Cosine: {
    double t = std::numbers::pi * static_cast<double>(epoch) /
               static_cast<double>(s.epochs);
    return s.minLr + (base - s.minLr) * (1 + std::cos(t)) / 2;
  }
  }
  return base;
}

} // namespace

double scheduledLr(const Recipe &r, int64_t step, int64_t epoch) {
  const Schedule &s = r.schedule;
  double lr = decayedLr(s, r.optimizer.lr, epoch);
  if (s.warmupSteps > 0)
    lr *= std::min(1.0, static_cast<double>(step + 1) /
                            static_cast<double>(s.warmupSteps));
  return lr;
}

bool hasSchedule(const Recipe &r) {
  return r.schedule.kind != Schedule::Kind::Constant ||
         r.schedule.warmupSteps > 0;
}

} // namespace nn
