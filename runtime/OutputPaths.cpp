//===- OutputPaths.cpp - Checking output paths before the work ------------===//
///
/// \file
/// Algorithm: each output is resolved like writeFileAtomic resolves it (links
/// followed); a refused kind is an error; a missing file needs its directory
/// to exist and to be writable (access(2), which also reports a read-only
/// file system to root). Each path then gets an identity: (st_dev, st_ino)
/// of the file when it exists, else those of its directory and its name.
/// Two paths with one identity are one file.
///
//===----------------------------------------------------------------------===//
#include "runtime/OutputPaths.h"

#include "ir/Support.h"
#include "runtime/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace nn {

namespace {

std::string baseOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// What makes two paths one file.
struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name; ///< "" for an existing file, else the name in dir (dev, ino)
  bool operator==(const Identity &o) const {
    return dev == o.dev && ino == o.ino && name == o.name;
  }
};

std::optional<Identity> identityOf(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0)
    return Identity{st.st_dev, st.st_ino, ""};
  if (errno != ENOENT)
    return std::nullopt;
  OutputTarget t;
  try {
    t = resolveOutput(path);
  } catch (const UserError &) {
    return std::nullopt; // a link loop: writing reports it
  }
  if (::stat(dirOf(t.path).c_str(), &st) != 0)
    return std::nullopt;
  return Identity{st.st_dev, st.st_ino, baseOf(t.path)};
}

[[noreturn]] void cannotWrite(const PathArg &out, const std::string &why) {
  throw UserError(out.path + ": error: cannot write " + out.what + " (" +
                  out.flag + "): " + why);
}

/// The checks of one output alone: its kind and its directory.
void checkWritable(const PathArg &out) {
  OutputTarget t = resolveOutput(out.path);
  if (t.kind == OutputKind::Refused)
    cannotWrite(out, "it is " + t.refusal);
  if (t.kind == OutputKind::InPlace)
    return;
  std::string dir = dirOf(t.path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    cannotWrite(out, "no such directory '" + dir + "'");
  if (!S_ISDIR(st.st_mode))
    cannotWrite(out, "'" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    cannotWrite(out, "directory '" + dir + "' is not writable: " +
                         std::strerror(errno));
}

[[noreturn]] void sameFileError(const PathArg &out, const PathArg &other) {
  std::string names = out.path == other.path
                          ? "'" + out.path + "'"
                          : "'" + out.path + "' and '" + other.path + "'";
  throw UserError("nnc: error: " + out.flag + " and " + other.flag +
                  " are the same file (" + names + ")\nnnc: help: give " +
                  out.flag + " another file name");
}

bool inPlace(const std::string &path) {
  return resolveOutput(path).kind == OutputKind::InPlace;
}

} // namespace

bool sameFile(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void checkOutputPaths(
    const std::vector<PathArg> &inputs, const std::vector<PathArg> &outputs,
    const std::vector<std::pair<std::string, std::string>> &allowed) {
  std::vector<const PathArg *> seen; // the outputs checked so far
  for (const PathArg &out : outputs) {
    if (out.path.empty())
      continue;
    checkWritable(out);
    std::optional<Identity> id = identityOf(out.path);
    if (!id)
      continue;
    for (const PathArg &in : inputs) {
      if (in.path.empty() ||
          std::find(allowed.begin(), allowed.end(),
                    std::make_pair(out.flag, in.flag)) != allowed.end())
        continue;
      if (identityOf(in.path) == id)
        sameFileError(out, in);
    }
    if (!inPlace(out.path))
      for (const PathArg *prev : seen)
        if (identityOf(prev->path) == id)
          sameFileError(out, *prev);
    seen.push_back(&out);
  }
}

} // namespace nn
