//===- ProgressNotice.h - "compiling... 3.2s" on a terminal ----*- C++ -*-===//
///
/// \file
/// A line that tells a person at a terminal what a slow one-time step is
/// doing (compiling a deep model can take seconds): shown only once the step
/// has taken longer than a delay, its clock redrawn in place, erased when the
/// step ends. Nothing else may write to the stream meanwhile.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace nn {

class ProgressNotice {
public:
  /// Shows "<what>... 1.2s" on `os` from `delaySeconds` after now until the
  /// notice is destroyed; nothing when `os` is null.
  ProgressNotice(std::ostream *os, std::string what, double delaySeconds = 1);
  ~ProgressNotice();
  ProgressNotice(const ProgressNotice &) = delete;
  ProgressNotice &operator=(const ProgressNotice &) = delete;

private:
  void show(double delaySeconds);

  std::ostream *os;
  std::string what;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread drawer;
};

} // namespace nn
