//===- MetricsFile.cpp - The per-epoch CSV of nnc train --metrics ---------===//

#include "runtime/MetricsFile.h"

#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace nn {

MetricsFile::MetricsFile(std::string path, std::string header, bool append)
    : path_(std::move(path)) {
  checkOutputPaths({}, {{"--metrics", path_, "the metrics"}});
  OutputTarget t = resolveOutput(path_);
  inPlace_ = t.kind == OutputKind::InPlace;
  std::string old;
  if (append && t.kind == OutputKind::Regular) {
    std::ifstream in(t.path, std::ios::binary);
    old.assign(std::istreambuf_iterator<char>(in), {});
    if (!old.empty() && old.back() != '\n')
      old += '\n';
  }
  pending_ = old.empty() ? header + "\n" : old;
}

MetricsFile::~MetricsFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

void MetricsFile::addLine(const std::string &line) {
  if (fd_ < 0 && !inPlace_) {
    // The first line: the whole file, replaced atomically (not fsynced:
    // the rename alone keeps it whole), then appended to.
    writeFileAtomic(path_, pending_ + line + "\n", false);
    pending_.clear();
    fd_ = ::open(resolveOutput(path_).path.c_str(),
                 O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0)
      throw UserError(path_ + ": error: cannot write file: " +
                      std::strerror(errno));
    return;
  }
  if (fd_ < 0) {
    fd_ = ::open(resolveOutput(path_).path.c_str(),
                 O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0)
      throw UserError(path_ + ": error: cannot write file: " +
                      std::strerror(errno));
  }
  append(pending_ + line + "\n");
  pending_.clear();
}

void MetricsFile::append(const std::string &text) {
  off_t before = inPlace_ ? -1 : ::lseek(fd_, 0, SEEK_END);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      if (before >= 0) // cut a torn line off again
        (void)::ftruncate(fd_, before);
      throw UserError(path_ + ": error: cannot write file: " +
                      std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
}

} // namespace nn
