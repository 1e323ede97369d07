//===- OutputPaths.h - Checking output paths before the work ----*- C++ -*-===//
///
/// \file
/// Before a command does its slow work (training, compiling), every file it
/// will write is checked: its directory exists and is writable, what is at
/// the path may be written (see writeFileAtomic), and it is not the same
/// file as one of the command's inputs or another of its outputs (compared
/// by file identity, st_dev and st_ino, not by spelling). A late write can
/// still fail (a full disk), but not for a reason known at the start.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace nn {

/// A path given on the command line, and how to name it in messages.
struct PathArg {
  std::string flag; ///< "--save", "--output", or "the model"
  std::string path;
  std::string what = "file"; ///< outputs: "the weights", "the plot", ...
};

/// Throws a UserError for the first output that cannot be written or that
/// is the same file as an input or an earlier output, naming both flags.
/// Empty paths are skipped. `allowed` lists (output flag, input flag) pairs
/// that may be one file (a checkpoint written where --resume read it).
/// Devices and pipes written in place (/dev/null) may appear more than once.
void checkOutputPaths(
    const std::vector<PathArg> &inputs, const std::vector<PathArg> &outputs,
    const std::vector<std::pair<std::string, std::string>> &allowed = {});

/// True when `a` and `b` exist and are one file (st_dev and st_ino).
bool sameFile(const std::string &a, const std::string &b);

} // namespace nn
