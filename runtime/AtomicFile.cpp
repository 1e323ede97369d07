//===- AtomicFile.cpp - Crash-safe file replacement -----------------------===//
///
/// \file
/// The classic recipe: write a uniquely named temp file beside the target,
/// fsync it, rename(2) it over the target (atomic within one file system),
/// then fsync the directory so the rename itself survives a power cut.
///
/// Before that, the path is resolved: symbolic links are followed one hop at
/// a time (so that the final target is replaced, in its own directory, and
/// the link stays), and what is finally there decides whether the file is
/// replaced, written in place (a device or a pipe: renaming over /dev/null
/// would destroy the device node) or refused (a directory, a socket).
///
//===----------------------------------------------------------------------===//
#include "runtime/AtomicFile.h"

#include "ir/Support.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace nn {

std::string dirOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

namespace {

std::string errnoText(int err) { return std::strerror(err); }

[[noreturn]] void fail(const std::string &path, const std::string &what,
                       int err) {
  throw UserError(path + ": error: " + what + ": " + errnoText(err));
}

/// Best effort: some file systems cannot fsync a directory (EINVAL); the file
/// itself is already durable and in place, so that is not an error.
void syncDirectory(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void)::fsync(fd);
  ::close(fd);
}

/// Links in /proc (/dev/stdout -> /proc/self/fd/1 -> "pipe:[42]") name open
/// files, not paths: they can only be opened as they are.
bool inProc(const std::string &dir) {
  char buf[PATH_MAX];
  if (!::realpath(dir.c_str(), buf))
    return false;
  return std::strncmp(buf, "/proc/", 6) == 0;
}

/// Sorts an existing, non-link file into its OutputKind.
OutputTarget classify(const std::string &path, const struct stat &st) {
  OutputTarget t;
  t.path = path;
  if (S_ISREG(st.st_mode))
    t.kind = OutputKind::Regular;
  else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
    t.kind = OutputKind::InPlace;
  else {
    t.kind = OutputKind::Refused;
    t.refusal = S_ISDIR(st.st_mode)    ? "a directory"
                : S_ISSOCK(st.st_mode) ? "a socket"
                : S_ISBLK(st.st_mode)  ? "a block device"
                                       : "not a regular file";
  }
  return t;
}

/// Runs `write` on `f`, then flushes (and fsyncs when `durable`) and closes
/// it; on any failure closes it, calls `cleanup` and throws as documented in
/// the header.
void runWriter(const std::string &path, std::FILE *f,
               const std::function<void(std::FILE *)> &write, bool durable,
               const std::function<void()> &cleanup) {
  auto abandon = [&] {
    if (f)
      std::fclose(f);
    f = nullptr;
    cleanup();
  };
  try {
    write(f);
    errno = 0;
    if (std::fflush(f) != 0 || std::ferror(f))
      throw std::system_error(errno ? errno : EIO, std::generic_category());
    if (durable && ::fsync(::fileno(f)) != 0)
      throw std::system_error(errno, std::generic_category());
    std::FILE *closing = f;
    f = nullptr;
    if (std::fclose(closing) != 0)
      throw std::system_error(errno, std::generic_category());
  } catch (const UserError &) {
    abandon();
    throw;
  } catch (const std::system_error &e) {
    abandon();
    fail(path, "cannot write file", e.code().value());
  } catch (const std::exception &e) {
    abandon();
    throw UserError(path + ": error: cannot write file: " + e.what());
  } catch (...) {
    abandon();
    throw;
  }
}

/// A device or a pipe: written where it is, never replaced or fsynced.
void writeInPlace(const std::string &path, const OutputTarget &t,
                  const std::function<void(std::FILE *)> &write) {
  int flags = O_WRONLY | O_CLOEXEC | (t.append ? O_APPEND : 0);
  int fd = ::open(t.path.c_str(), flags);
  if (fd < 0)
    fail(path, "cannot write file", errno);
  std::FILE *f = ::fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    ::close(fd);
    fail(path, "cannot write file", err);
  }
  runWriter(path, f, write, false, [] {});
}

/// A regular file, or none yet: a temp file beside the target, renamed.
void writeReplacing(const std::string &path, const OutputTarget &t,
                    const std::function<void(std::FILE *)> &write,
                    bool durable) {
  static std::atomic<unsigned> counter{0};
  const std::string &target = t.path;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = target + ".tmp." + std::to_string(::getpid()) + "." +
          std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      fail(path, "cannot create a temporary file in '" + dirOf(target) + "'",
           errno);
  }
  if (fd < 0)
    fail(path, "cannot create a temporary file", EEXIST);
  // The replacement keeps the permissions of the file it replaces.
  struct stat old;
  if (t.kind == OutputKind::Regular && ::stat(target.c_str(), &old) == 0)
    (void)::fchmod(fd, old.st_mode & 07777);

  std::FILE *f = ::fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, "cannot write file", err);
  }
  runWriter(path, f, write, durable, [&] { ::unlink(tmp.c_str()); });
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace file", err);
  }
  if (durable)
    syncDirectory(dirOf(target));
}

} // namespace

OutputTarget resolveOutput(const std::string &path) {
  if (path.empty())
    throw UserError("error: empty output file name");
  std::string cur = path;
  for (int hop = 0; hop < 40; ++hop) {
    struct stat st;
    if (::lstat(cur.c_str(), &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR) // ENOTDIR: "file/x"
        fail(path, "cannot write file", errno);
      OutputTarget t;
      t.path = cur;
      return t; // Missing
    }
    if (!S_ISLNK(st.st_mode))
      return classify(cur, st);
    if (inProc(dirOf(cur))) {
      // /proc/self/fd/N: open it as it is; what it names decides.
      if (::stat(cur.c_str(), &st) != 0)
        fail(path, "cannot write file", errno);
      OutputTarget t = classify(cur, st);
      if (t.kind == OutputKind::Regular) {
        t.kind = OutputKind::InPlace; // another process's open file
        t.append = true;
      }
      return t;
    }
    char buf[PATH_MAX];
    ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
    if (n < 0)
      fail(path, "cannot write file", errno);
    std::string next(buf, static_cast<size_t>(n));
    cur = next[0] == '/' ? next : dirOf(cur) + "/" + next;
  }
  fail(path, "cannot write file", ELOOP);
}

void writeAll(std::FILE *f, const void *data, size_t size) {
  if (size == 0)
    return;
  errno = 0;
  if (std::fwrite(data, 1, size, f) != size)
    throw std::system_error(errno ? errno : EIO, std::generic_category());
}

void writeFileAtomic(const std::string &path,
                     const std::function<void(std::FILE *)> &write,
                     bool durable) {
  OutputTarget t = resolveOutput(path);
  switch (t.kind) {
  case OutputKind::Refused:
    throw UserError(path + ": error: cannot write file: it is " + t.refusal +
                    "; nnc writes regular files, character devices and pipes");
  case OutputKind::InPlace:
    writeInPlace(path, t, write);
    return;
  case OutputKind::Missing:
  case OutputKind::Regular:
    writeReplacing(path, t, write, durable);
    return;
  }
  NN_UNREACHABLE("bad OutputKind");
}

void writeFileAtomic(const std::string &path, std::string_view bytes,
                     bool durable) {
  writeFileAtomic(
      path, [&](std::FILE *f) { writeAll(f, bytes.data(), bytes.size()); },
      durable);
}

} // namespace nn
