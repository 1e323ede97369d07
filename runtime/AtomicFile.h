//===- AtomicFile.h - Crash-safe file replacement --------------*- C++ -*-===//
///
/// \file
/// Writes a file so that readers see either the old contents or the complete
/// new ones, never a torn mix: weights files and checkpoints go through here.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace nn {

/// Replaces `path` atomically: creates a temp file in the same directory,
/// calls `write` on it, checks for stream errors, flushes and fsyncs it,
/// renames it over `path` and fsyncs the directory.
///
/// `write` may throw (any exception) to report a failure, e.g. a test
/// simulating a full disk. On any failure the temp file is removed, an
/// existing `path` is left untouched, and a UserError naming `path` is thrown
/// ("path: error: cannot write file: No space left on device"); a UserError
/// thrown by `write` is passed on as it is.
void writeFileAtomic(const std::string &path,
                     const std::function<void(std::FILE *)> &write);

/// Replaces `path` atomically with `bytes` (see above).
void writeFileAtomic(const std::string &path, std::string_view bytes);

/// Writes `size` bytes to `f`; throws std::system_error with errno when the
/// stream reports a short write.
void writeAll(std::FILE *f, const void *data, size_t size);

} // namespace nn
