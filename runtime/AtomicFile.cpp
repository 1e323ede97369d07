//===- AtomicFile.cpp - Crash-safe file replacement -----------------------===//
///
/// \file
/// The classic recipe: write a uniquely named temp file beside the target,
/// fsync it, rename(2) it over the target (atomic within one file system),
/// then fsync the directory so the rename itself survives a power cut.
///
//===----------------------------------------------------------------------===//
#include "runtime/AtomicFile.h"

#include "ir/Support.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace nn {

namespace {

std::string dirOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

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

} // namespace

void writeAll(std::FILE *f, const void *data, size_t size) {
  if (size == 0)
    return;
  errno = 0;
  if (std::fwrite(data, 1, size, f) != size)
    throw std::system_error(errno ? errno : EIO, std::generic_category());
}

void writeFileAtomic(const std::string &path,
                     const std::function<void(std::FILE *)> &write) {
  if (path.empty())
    throw UserError("error: empty output file name");
  static std::atomic<unsigned> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
          std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST)
      fail(path, "cannot create a temporary file in '" + dirOf(path) + "'",
           errno);
  }
  if (fd < 0)
    fail(path, "cannot create a temporary file", EEXIST);

  std::FILE *f = ::fdopen(fd, "wb");
  if (!f) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, "cannot write file", err);
  }

  // From here on, every failure path closes and removes the temp file.
  auto abandon = [&](std::FILE *&file) {
    if (file)
      std::fclose(file);
    file = nullptr;
    ::unlink(tmp.c_str());
  };
  try {
    write(f);
    if (std::fflush(f) != 0 || std::ferror(f))
      throw std::system_error(errno ? errno : EIO, std::generic_category());
    if (::fsync(::fileno(f)) != 0)
      throw std::system_error(errno, std::generic_category());
    std::FILE *closing = f;
    f = nullptr;
    if (std::fclose(closing) != 0)
      throw std::system_error(errno, std::generic_category());
  } catch (const UserError &) {
    abandon(f);
    throw;
  } catch (const std::system_error &e) {
    abandon(f);
    fail(path, "cannot write file", e.code().value());
  } catch (const std::exception &e) {
    abandon(f);
    throw UserError(path + ": error: cannot write file: " + e.what());
  } catch (...) {
    abandon(f);
    throw;
  }

  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot replace file", err);
  }
  syncDirectory(dirOf(path));
}

void writeFileAtomic(const std::string &path, std::string_view bytes) {
  writeFileAtomic(
      path, [&](std::FILE *f) { writeAll(f, bytes.data(), bytes.size()); });
}

} // namespace nn
