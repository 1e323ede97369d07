//===- MetricsFile.h - The per-epoch CSV of nnc train --metrics -*- C++ -*-===//
///
/// \file
/// The metrics file grows by one line per epoch, each written out at once
/// (a run can be followed with tail -f) and checked. The first line of a run
/// replaces a regular file atomically (header and all), so a run that fails
/// before its first epoch ends leaves the previous file as it was; later
/// lines are appended, and one that cannot be written whole is cut off
/// again (ftruncate), so no line is ever torn. A device or a pipe
/// (/dev/stdout) gets every line in place.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace nn {

class MetricsFile {
public:
  /// Checks the path (checkOutputPaths); nothing is written yet. `append`:
  /// a resumed run keeps the lines of the file that is there (the header is
  /// written only when there is none).
  MetricsFile(std::string path, std::string header, bool append);
  ~MetricsFile();
  MetricsFile(const MetricsFile &) = delete;
  MetricsFile &operator=(const MetricsFile &) = delete;

  /// Adds `line` (without its newline) and writes it out; throws a UserError
  /// naming the file and the reason when it cannot be written.
  void addLine(const std::string &line);

private:
  void append(const std::string &text);

  std::string path_;
  std::string pending_; ///< what the first write puts before the line
  bool inPlace_ = false;
  int fd_ = -1; ///< open for appending after the first write
};

} // namespace nn
