//===- AtomicFile.h - Crash-safe file replacement --------------*- C++ -*-===//
///
/// \file
/// Writes a file so that readers see either the old contents or the complete
/// new ones, never a torn mix: every file nnc writes goes through here.
///
/// What is at the path decides how: a regular file (or nothing) is replaced
/// atomically; a symbolic link is followed to its final target, which is
/// replaced atomically in its own directory (the link stays a link); a
/// character device or a pipe (/dev/null, /dev/stdout) is written in place;
/// a directory, a socket or a block device is refused. Nothing is ever
/// replaced that is not a regular file, and no temp file is left behind.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace nn {

/// The directory part of `path`: "." for a bare name, "/" at the root.
std::string dirOf(const std::string &path);

/// What an output path leads to, once symbolic links are followed.
enum class OutputKind {
  Missing, ///< nothing there yet: created atomically
  Regular, ///< a regular file: replaced atomically
  InPlace, ///< a character device or a pipe: written in place
  Refused, ///< a directory, a socket, a block device: never written
};

struct OutputTarget {
  std::string path; ///< the final target (links followed); "" if Refused
  OutputKind kind = OutputKind::Missing;
  /// For Refused: "a directory", "a socket", "a block device".
  std::string refusal;
  bool append = false; ///< a /proc/self/fd link: append, do not truncate
};

/// Follows the symbolic links of `path` to what it finally names. Throws a
/// UserError naming `path` when a link loops or a lookup fails for another
/// reason than a missing final file.
OutputTarget resolveOutput(const std::string &path);

/// Writes `path` as the file comment above says: for a regular or missing
/// target, creates a temp file in the target's directory, calls `write` on
/// it, checks for stream errors, flushes and (when `durable`) fsyncs it,
/// renames it over the target and fsyncs the directory; for a device or a
/// pipe, calls `write` on it directly and checks the flush.
///
/// `write` may throw (any exception) to report a failure, e.g. a test
/// simulating a full disk. On any failure the temp file is removed, an
/// existing file is left untouched, and a UserError naming `path` is thrown
/// ("path: error: cannot write file: No space left on device"); a UserError
/// thrown by `write` is passed on as it is.
void writeFileAtomic(const std::string &path,
                     const std::function<void(std::FILE *)> &write,
                     bool durable = true);

/// Writes `bytes` to `path` (see above).
void writeFileAtomic(const std::string &path, std::string_view bytes,
                     bool durable = true);

/// Writes `size` bytes to `f`; throws std::system_error with errno when the
/// stream reports a short write.
void writeAll(std::FILE *f, const void *data, size_t size);

} // namespace nn
