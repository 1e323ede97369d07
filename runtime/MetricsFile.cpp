//===- MetricsFile.cpp - The per-epoch CSV of nnc train --metrics ---------===//

#include "runtime/MetricsFile.h"

#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

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
  std::string start = old.empty() ? header + "\n" : old;
  (inPlace_ ? pending_ : contents_) = start;
}

MetricsFile::~MetricsFile() {
  if (stream_)
    std::fclose(stream_);
}

void MetricsFile::addLine(const std::string &line) {
  if (!inPlace_) {
    contents_ += line + "\n";
    // Not fsynced per epoch: the rename alone keeps the file whole.
    writeFileAtomic(path_, contents_, false);
    return;
  }
  pending_ += line + "\n";
  if (!stream_) {
    stream_ = std::fopen(path_.c_str(), "ab");
    if (!stream_)
      throw UserError(path_ + ": error: cannot write file: " +
                      std::strerror(errno));
  }
  errno = 0;
  size_t n = std::fwrite(pending_.data(), 1, pending_.size(), stream_);
  if (n != pending_.size() || std::fflush(stream_) != 0)
    throw UserError(path_ + ": error: cannot write file: " +
                    std::strerror(errno ? errno : EIO));
  pending_.clear();
}

} // namespace nn
