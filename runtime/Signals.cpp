//===- Signals.cpp - Stopping a long run cleanly on SIGINT/SIGTERM --------===//
///
/// \file
/// The handler does only what is async-signal-safe: it stores the signal
/// number in a lock-free atomic and, on the second signal, restores the
/// default action (sigaction is async-signal-safe) so the next one ends the
/// process.
///
//===----------------------------------------------------------------------===//
#include "runtime/Signals.h"

#include <atomic>
#include <csignal>

namespace nn {

namespace {

std::atomic<int> pending{0};
static_assert(std::atomic<int>::is_always_lock_free);

struct sigaction oldInt, oldTerm;

extern "C" void onInterrupt(int sig) {
  int expected = 0;
  if (!pending.compare_exchange_strong(expected, sig)) {
    // Second signal: the next one gets the default action.
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGINT, &dfl, nullptr);
    sigaction(SIGTERM, &dfl, nullptr);
  }
}

} // namespace

InterruptScope::InterruptScope() {
  struct sigaction sa = {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; // reads and writes in progress carry on
  sigaction(SIGINT, &sa, &oldInt);
  sigaction(SIGTERM, &sa, &oldTerm);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &oldInt, nullptr);
  sigaction(SIGTERM, &oldTerm, nullptr);
}

bool interruptRequested() { return pending.load() != 0; }

int interruptSignal() { return pending.load(); }

void requestInterrupt(int signal) { pending.store(signal); }

void clearInterrupt() { pending.store(0); }

} // namespace nn
