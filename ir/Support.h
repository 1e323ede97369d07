//===- Support.h - Errors and assertions -----------------------*- C++ -*-===//
///
/// \file
/// The two kinds of failure in nnc: a user or input error (`UserError`, exit
/// code 1, message already in clang style) and an internal bug (`NN_ASSERT`,
/// `NN_UNREACHABLE`: `InternalError`, exit code 3).
///
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>
#include <string>

namespace nn {

/// A problem with the user's input: a file, a flag, a model. `what()` is the
/// complete message, e.g. "data.csv:3:5: error: not a number 'x1'".
class UserError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Thrown once diagnostics have been reported through a DiagEngine; carries no
/// text of its own (the engine printed it).
class DiagnosedError : public std::runtime_error {
public:
  DiagnosedError() : std::runtime_error("errors reported") {}
};

/// A bug in nnc itself.
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

[[noreturn]] void reportInternalError(const char *file, int line,
                                      const std::string &msg);

} // namespace nn

#define NN_ASSERT(cond, msg)                                                   \
  do {                                                                         \
    if (!(cond))                                                               \
      ::nn::reportInternalError(__FILE__, __LINE__,                            \
                                std::string("assertion '" #cond "' failed: ") + \
                                    (msg));                                    \
  } while (0)

#define NN_UNREACHABLE(msg) ::nn::reportInternalError(__FILE__, __LINE__, (msg))
