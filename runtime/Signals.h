//===- Signals.h - Stopping a long run cleanly on SIGINT/SIGTERM -*- C++ -*-===//
///
/// \file
/// A run that must not lose work (training) installs an InterruptScope: the
/// first SIGINT or SIGTERM only sets a flag, which the training loop polls
/// between steps to finish the step, write a checkpoint and stop (exit 130).
/// A second signal restores the default action, so Ctrl-C twice still quits.
///
//===----------------------------------------------------------------------===//
#pragma once

namespace nn {

/// Exit status of a run stopped by a signal after a clean checkpoint.
inline constexpr int kExitInterrupted = 130;

/// While alive, SIGINT and SIGTERM set the interrupt flag instead of ending
/// the process; the previous handlers come back when it is destroyed.
/// Scopes do not nest (the innermost one wins while it lives).
class InterruptScope {
public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope &) = delete;
  InterruptScope &operator=(const InterruptScope &) = delete;
};

/// Whether a signal (or requestInterrupt) asked the run to stop.
bool interruptRequested();
/// The signal that asked (SIGINT, SIGTERM), 0 when none did.
int interruptSignal();
/// Sets the flag as a signal would (tests; other stop conditions).
void requestInterrupt(int signal);
/// Clears the flag.
void clearInterrupt();

} // namespace nn
