//===- MetricsFile.h - The per-epoch CSV of nnc train --metrics -*- C++ -*-===//
///
/// \file
/// The metrics file grows by one line per epoch. Each line is written out at
/// once (a run can be followed with tail -f) and checked: a regular file is
/// replaced atomically with all its lines so far, so it is never torn, and a
/// run that fails before its first epoch ends leaves the previous file as it
/// was; a device or a pipe (/dev/stdout) gets each line in place.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdio>
#include <string>

namespace nn {

class MetricsFile {
public:
  /// Nothing is written yet. `append`: a resumed run keeps the lines of the
  /// file that is there (the header is written only when there is none).
  MetricsFile(std::string path, std::string header, bool append);
  ~MetricsFile();
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;

  /// Adds `line` (without its newline) and writes it out; throws a UserError
  /// naming the file and the reason when it cannot be written.
  void addLine(const std::string &line);

private:
  std::string path_;
  std::string contents_; ///< regular files: every line so far
  std::string pending_;  ///< in place: what is not written yet
  bool inPlace_ = false;
  std::FILE *stream_ = nullptr; ///< in place, once opened
};

} // namespace nn
