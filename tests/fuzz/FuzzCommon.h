//===- FuzzCommon.h - Shared pieces of the libFuzzer targets ---*- C++ -*-===//
///
/// \file
/// Every target feeds bytes to one reader and accepts exactly two outcomes:
/// a result, or a user error (UserError / DiagnosedError). Anything else (an
/// InternalError, another exception, a sanitizer report) is a bug.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Support.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace nn::fuzz {

/// Runs `body`; returns normally on a user error, aborts (so libFuzzer keeps
/// the input) on anything else.
template <typename F> int runGuarded(F &&body) {
  try {
    body();
  } catch (const UserError &) {
  } catch (const DiagnosedError &) {
  } catch (const std::exception &e) {
    std::fprintf(stderr, "fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}

} // namespace nn::fuzz
