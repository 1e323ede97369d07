//===- ProgressNotice.cpp - "compiling... 3.2s" on a terminal -------------===//

#include "runtime/ProgressNotice.h"

#include <chrono>
#include <cstdio>

namespace nn {

ProgressNotice::ProgressNotice(std::ostream *os, std::string what,
                               double delaySeconds)
    : os(os), what(std::move(what)) {
  if (os)
    drawer = std::thread([this, delaySeconds] { show(delaySeconds); });
}

ProgressNotice::~ProgressNotice() {
  if (!drawer.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_all();
  drawer.join();
}

void ProgressNotice::show(double delaySeconds) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now();
  std::unique_lock<std::mutex> lock(m);
  if (cv.wait_for(lock, std::chrono::duration<double>(delaySeconds),
                  [this] { return done; }))
    return;
  while (!done) {
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    char clock[32];
    std::snprintf(clock, sizeof clock, "%.1fs", s);
    *os << "\r" << what << "... " << clock << "\x1b[K" << std::flush;
    cv.wait_for(lock, std::chrono::milliseconds(200), [this] { return done; });
  }
  *os << "\r\x1b[K" << std::flush;
}

} // namespace nn
