//===- Idx.cpp - IDX files (MNIST format) ---------------------------------===//
///
/// \file
/// Reads through a small byte-source interface so that gzipped files, plain
/// files and memory buffers share one parser. Values are converted to float
/// chunk by chunk as they arrive, so memory grows only with data actually
/// present, whatever the header claims.
///
/// Algorithm for a row range [begin, end) (a whole file is the range of all
/// its rows): read the header, skip begin rows, read and convert end - begin
/// rows, skip the rest and check that nothing follows. A plain file skips by
/// seeking, so a process reads only the header and its rows (the file size
/// tells where the data ends). A gzip stream cannot seek: it is decompressed
/// and the bytes outside the range dropped, so only the range is held in
/// memory but the time is that of the whole file. Either way a truncated
/// file or trailing data is reported wherever it is, the same on every
/// process; values outside the range are not checked (not finite, ...).
///
//===----------------------------------------------------------------------===//
#include "runtime/Idx.h"

#include "ir/Support.h"
#include "runtime/Dataset.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <dirent.h>
#include <limits>
#include <set>
#include <sys/stat.h>
#include <zlib.h>

namespace nn {

namespace {

/// Where the bytes come from.
class ByteSource {
public:
  virtual ~ByteSource() = default;
  /// Reads up to `n` bytes; returns how many (0 at the end). Throws on error.
  virtual size_t read(uint8_t *buf, size_t n) = 0;
  /// Skips up to `n` bytes; returns how many (fewer at the end). Throws on
  /// error. By default reads and drops them.
  virtual uint64_t skip(uint64_t n) {
    uint8_t scratch[1 << 16];
    uint64_t done = 0;
    while (done < n) {
      size_t got =
          read(scratch, static_cast<size_t>(std::min<uint64_t>(
                            n - done, sizeof scratch)));
      if (got == 0)
        break;
      done += got;
    }
    return done;
  }
  /// An upper bound on the total number of bytes this source can yield.
  virtual uint64_t maxBytes() const = 0;
  /// " of the decompressed data" for gzip sources, for messages.
  virtual const char *offsetNote() const { return ""; }
};

class MemorySource : public ByteSource {
public:
  MemorySource(const uint8_t *data, size_t size) : data(data), size(size) {}
  size_t read(uint8_t *buf, size_t n) override {
    size_t k = std::min(n, size - pos);
    if (k)
      std::memcpy(buf, data + pos, k);
    pos += k;
    return k;
  }
  uint64_t skip(uint64_t n) override {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, size - pos));
    pos += k;
    return k;
  }
  uint64_t maxBytes() const override { return size; }

private:
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
};

/// A file through zlib: gzread passes plain files through unchanged.
class GzSource : public ByteSource {
public:
  explicit GzSource(const std::string &path) : path(path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      throw UserError(path +
                      ": error: cannot open file: " + std::strerror(errno));
    if (S_ISDIR(st.st_mode))
      throw UserError(path + ": error: is a directory, not an IDX file");
    fileSize = static_cast<uint64_t>(st.st_size);
    file = gzopen(path.c_str(), "rb");
    if (!file)
      throw UserError(path + ": error: cannot open file: " +
                      std::strerror(errno ? errno : ENOMEM));
    gzbuffer(file, 1 << 17);
    compressed = !gzdirect(file);
  }
  ~GzSource() override { gzclose(file); }
  GzSource(const GzSource &) = delete;
  GzSource &operator=(const GzSource &) = delete;

  size_t read(uint8_t *buf, size_t n) override {
    size_t total = 0;
    while (total < n) {
      unsigned want =
          static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
      int got = gzread(file, buf + total, want);
      if (got < 0) {
        int err = 0;
        const char *msg = gzerror(file, &err);
        throw UserError(path + ": error: corrupt gzip data: " +
                        (msg ? msg : "unknown error") + " (byte offset " +
                        std::to_string(consumed + total) +
                        " of the decompressed data)");
      }
      if (got == 0) {
        // gzread returns 0 both at a clean end and at a truncated stream.
        int err = 0;
        const char *msg = gzerror(file, &err);
        if (err != Z_OK && err != Z_STREAM_END)
          throw UserError(path + ": error: corrupt gzip data: " +
                          (msg ? msg : "unknown error") + " (byte offset " +
                          std::to_string(consumed + total) +
                          " of the decompressed data)");
        break;
      }
      total += static_cast<size_t>(got);
    }
    consumed += total;
    return total;
  }
  uint64_t skip(uint64_t n) override {
    if (compressed)
      return ByteSource::skip(n);
    // A plain file: seek, no further than its end.
    uint64_t k = std::min(n, fileSize - std::min(fileSize, consumed));
    if (k && gzseek(file, static_cast<z_off_t>(k), SEEK_CUR) < 0)
      throw UserError(path + ": error: cannot seek: " + std::strerror(errno));
    consumed += k;
    return k;
  }
  uint64_t maxBytes() const override {
    // Deflate cannot expand by more than about 1032:1.
    if (!compressed)
      return fileSize;
    return fileSize > (UINT64_MAX - 4096) / 1032 ? UINT64_MAX
                                                 : fileSize * 1032 + 4096;
  }
  const char *offsetNote() const override {
    return compressed ? " of the decompressed data" : "";
  }

private:
  std::string path;
  gzFile file = nullptr;
  uint64_t fileSize = 0;
  uint64_t consumed = 0;
  bool compressed = false;
};

[[noreturn]] void fail(const std::string &name, const ByteSource &src,
                       const std::string &msg, uint64_t offset) {
  throw UserError(name + ": error: " + msg + " (byte offset " +
                  std::to_string(offset) + src.offsetNote() + ")");
}

size_t elementSize(uint8_t type) {
  switch (type) {
  case 0x08:
  case 0x09:
    return 1;
  case 0x0B:
    return 2;
  case 0x0C:
  case 0x0D:
    return 4;
  case 0x0E:
    return 8;
  default:
    return 0;
  }
}

uint64_t loadBE(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

/// Converts `count` big-endian values of `type` at `p` to floats at `out`.
void convert(uint8_t type, const uint8_t *p, size_t count, float *out) {
  switch (type) {
  case 0x08:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(p[i]);
    return;
  case 0x09:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(static_cast<int8_t>(p[i]));
    return;
  case 0x0B:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(
          static_cast<int16_t>(static_cast<uint16_t>(loadBE(p + 2 * i, 2))));
    return;
  case 0x0C:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(
          static_cast<int32_t>(static_cast<uint32_t>(loadBE(p + 4 * i, 4))));
    return;
  case 0x0D:
    for (size_t i = 0; i < count; ++i)
      out[i] =
          std::bit_cast<float>(static_cast<uint32_t>(loadBE(p + 4 * i, 4)));
    return;
  case 0x0E:
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(std::bit_cast<double>(loadBE(p + 8 * i, 8)));
    return;
  default:
    NN_UNREACHABLE("unchecked IDX type");
  }
}

/// The index of the first of `count` float values at `p` that is not
/// finite or does not fit float32; `count` when all are fine.
size_t firstNonFinite(uint8_t type, const uint8_t *p, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (type == 0x0D && !std::isfinite(std::bit_cast<float>(
                            static_cast<uint32_t>(loadBE(p + 4 * i, 4)))))
      return i;
    if (type == 0x0E) {
      double d = std::bit_cast<double>(loadBE(p + 8 * i, 8));
      if (!std::isfinite(d) ||
          std::fabs(d) > double(std::numeric_limits<float>::max()))
        return i;
    }
  }
  return count;
}

/// "non-finite value nan in sample 3 (value 5 of it)": where value number
/// `index` (0-based, in file order) sits, 1-based.
[[noreturn]] void failNonFinite(const std::string &name, const ByteSource &src,
                                uint8_t type, const uint8_t *p, uint64_t index,
                                const std::vector<int64_t> &dims,
                                uint64_t offset) {
  double v =
      type == 0x0D
          ? double(std::bit_cast<float>(static_cast<uint32_t>(loadBE(p, 4))))
          : std::bit_cast<double>(loadBE(p, 8));
  char text[40];
  std::snprintf(text, sizeof text, "%g", v);
  uint64_t perSample = 1;
  for (size_t d = 1; d < dims.size(); ++d)
    perSample *= static_cast<uint64_t>(dims[d]);
  std::string where = "sample " + std::to_string(index / perSample + 1);
  if (perSample > 1)
    where = "value " + std::to_string(index % perSample + 1) + " of " + where;
  std::string what = std::isfinite(v) ? "value " + std::string(text) +
                                            " out of range for float32"
                                      : "non-finite value " + std::string(text);
  fail(name, src, what + " at " + where + " (nan and inf are not valid data)",
       offset);
}

/// The header of an IDX file: magic number, element type and dimensions.
struct IdxHeader {
  uint8_t type = 0;
  size_t esize = 0;
  std::vector<int64_t> dims;
  uint64_t count = 1; // elements the dimensions announce
  uint64_t size = 0;  // header bytes
};

/// The magic number's element type (bytes 2 and 3 give type and rank).
IdxHeader readMagic(const std::string &name, ByteSource &src) {
  uint8_t magic[4];
  size_t got = src.read(magic, 4);
  if (got < 4)
    fail(name, src,
         "not an IDX file: too short for the 4-byte magic number (" +
             std::to_string(got) + " bytes)",
         got);
  if (magic[0] != 0 || magic[1] != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%02x%02x%02x%02x", magic[0], magic[1],
                  magic[2], magic[3]);
    fail(name, src,
         std::string("not an IDX file: bad magic number ") + hex +
             " (IDX files start with two zero bytes, e.g. 0x00000803)",
         0);
  }
  IdxHeader h;
  h.type = magic[2];
  h.esize = elementSize(h.type);
  if (h.esize == 0) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", h.type);
    fail(name, src,
         std::string("unknown IDX data type ") + hex +
             " (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)",
         2);
  }
  if (magic[3] == 0)
    fail(name, src, "IDX file declares 0 dimensions", 3);
  h.dims.resize(magic[3]);
  return h;
}

IdxHeader readHeader(const std::string &name, ByteSource &src) {
  IdxHeader h = readMagic(name, src);
  int ndim = static_cast<int>(h.dims.size());
  uint8_t dimBytes[255 * 4];
  size_t dimLen = static_cast<size_t>(ndim) * 4;
  size_t got = src.read(dimBytes, dimLen);
  if (got < dimLen)
    fail(name, src,
         "truncated IDX header: " + std::to_string(ndim) + " dimensions need " +
             std::to_string(dimLen) + " bytes, found " + std::to_string(got),
         4 + got);
  for (int d = 0; d < ndim; ++d) {
    uint32_t v = static_cast<uint32_t>(loadBE(dimBytes + 4 * d, 4));
    uint64_t offset = 4 + 4 * static_cast<uint64_t>(d);
    if (v == 0)
      fail(name, src, "dimension " + std::to_string(d) + " is 0", offset);
    if (v > 0x7FFFFFFFu)
      fail(name, src,
           "dimension " + std::to_string(d) + " is too large (" +
               std::to_string(v) + ")",
           offset);
    h.dims[static_cast<size_t>(d)] = v;
    if (h.count > UINT64_MAX / v)
      fail(name, src, "the dimensions' product overflows", offset);
    h.count *= v;
  }
  h.size = 4 + dimLen;
  // Values beyond this many bytes could never be in any file we can read.
  if (h.count > UINT64_MAX / h.esize || h.count * h.esize > src.maxBytes())
    fail(name, src,
         "truncated IDX file: the header announces " + std::to_string(h.count) +
             " values of " + std::to_string(h.esize) +
             " bytes, more than the file can hold",
         h.size);
  return h;
}

[[noreturn]] void failTruncated(const std::string &name, const ByteSource &src,
                                const IdxHeader &h, uint64_t done) {
  fail(name, src,
       "truncated IDX file: the header announces " + std::to_string(h.count) +
           " values (" + std::to_string(h.count * h.esize) +
           " bytes of data) but the data ends after " + std::to_string(done) +
           " bytes",
       h.size + done);
}

/// Skips the data bytes [from, to) (offsets in the data after the header).
void skipData(const std::string &name, ByteSource &src, const IdxHeader &h,
              uint64_t from, uint64_t to) {
  uint64_t got = src.skip(to - from);
  if (got < to - from)
    failTruncated(name, src, h, from + got);
}

/// Rows `rows` of the array whose header `h` was just read from `src`, then
/// the check that the data ends where the header says.
IdxArray readRows(const std::string &name, ByteSource &src, const IdxHeader &h,
                  RowRange rows) {
  std::string why;
  if (!resolveRows(rows, h.dims[0], why))
    fail(name, src, why, 4); // dimension 0 holds the sample count
  uint64_t perRow = h.count / static_cast<uint64_t>(h.dims[0]);
  uint64_t rowBytes = perRow * h.esize;
  uint64_t first = static_cast<uint64_t>(rows.begin) * rowBytes;
  uint64_t last = static_cast<uint64_t>(rows.end) * rowBytes;
  uint64_t dataBytes = h.count * h.esize;
  IdxArray out;
  out.type = static_cast<IdxType>(h.type);
  out.values.shape = h.dims;
  out.values.shape[0] = rows.end - rows.begin;
  out.values.data.reserve(static_cast<size_t>((last - first) / h.esize));
  skipData(name, src, h, 0, first);

  // Read and convert in chunks of whole elements.
  const size_t chunkElems = (size_t(1) << 20) / h.esize;
  std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(
                               chunkElems, (last - first) / h.esize)) *
                           h.esize);
  uint64_t done = first; // bytes of data read or skipped
  while (done < last) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(last - done, buf.size()));
    size_t n = src.read(buf.data(), want);
    size_t whole = n / h.esize;
    size_t old = out.values.data.size();
    out.values.data.resize(old + whole);
    if (size_t bad = firstNonFinite(h.type, buf.data(), whole); bad < whole)
      failNonFinite(name, src, h.type, buf.data() + bad * h.esize,
                    done / h.esize + bad, h.dims, h.size + done + bad * h.esize);
    convert(h.type, buf.data(), whole, out.values.data.data() + old);
    done += n;
    if (n < want)
      failTruncated(name, src, h, done);
  }
  skipData(name, src, h, last, dataBytes);
  uint8_t extra;
  if (src.read(&extra, 1) != 0)
    fail(name, src,
         "trailing data after the " + std::to_string(h.count) +
             " values the IDX header announces",
         h.size + dataBytes);
  return out;
}

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// The first existing file among prefix + {"-", "."} + stem + {"", ".gz"}.
std::string findPart(const std::string &prefix, const std::string &stem,
                     std::vector<std::string> &tried) {
  for (const char *sep : {"-", "."})
    for (const char *ext : {"", ".gz"}) {
      std::string p = prefix + "-" + stem.substr(0, stem.find('-')) + sep +
                      stem.substr(stem.find('-') + 1) + ext;
      if (isFile(p))
        return p;
      if (sep[0] == '-')
        tried.push_back(p);
    }
  return "";
}

/// The prefixes of IDX image files in `dir` (e.g. "train", "t10k").
std::set<std::string> prefixesIn(const std::string &dir) {
  std::set<std::string> out;
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return out;
  while (dirent *e = ::readdir(d)) {
    std::string n = e->d_name;
    for (const char *suffix : {"-images-idx3-ubyte", "-images-idx3-ubyte.gz",
                               "-images.idx3-ubyte", "-images.idx3-ubyte.gz"}) {
      std::string s = suffix;
      if (n.size() > s.size() &&
          n.compare(n.size() - s.size(), s.size(), s) == 0)
        out.insert(n.substr(0, n.size() - s.size()));
    }
  }
  ::closedir(d);
  return out;
}

/// Both files of an IDX pair, open, their headers read and their sample
/// counts checked to agree.
struct OpenPair {
  GzSource images, labels;
  IdxHeader imageHeader, labelHeader;

  OpenPair(const std::string &img, const std::string &lab)
      : images(img), labels(lab),
        imageHeader(readHeader(img, images)),
        labelHeader(readHeader(lab, labels)) {
    int64_t n = imageHeader.dims[0], m = labelHeader.dims[0];
    if (n != m)
      throw UserError(lab + ": error: " + std::to_string(m) +
                      " labels, but '" + img + "' holds " + std::to_string(n) +
                      " images");
  }
};

/// The images and labels files of the IDX pair `prefixIn` names.
std::pair<std::string, std::string> findPair(const std::string &prefixIn);

} // namespace

IdxArray parseIdx(const std::string &name, const uint8_t *data, size_t size) {
  MemorySource src(data, size);
  return readRows(name, src, readHeader(name, src), {});
}

IdxArray readIdx(const std::string &path, RowRange rows) {
  GzSource src(path);
  return readRows(path, src, readHeader(path, src), rows);
}

Dataset loadIdxFiles(const std::string &images, const std::string &labels,
                     RowRange rows) {
  OpenPair pair(images, labels);
  IdxArray img = readRows(images, pair.images, pair.imageHeader, rows);
  IdxArray lab = readRows(labels, pair.labels, pair.labelHeader, rows);
  int64_t n = img.values.shape[0];
  Dataset ds;
  ds.source = images;
  ds.labelSource = labels;
  ds.firstRow = rows.begin;
  ds.fileRows = pair.imageHeader.dims[0];
  ds.x.data = std::move(img.values.data);
  ds.x.shape = {n, static_cast<int64_t>(pair.imageHeader.count /
                                        pair.imageHeader.dims[0])};
  if (img.type == IdxType::U8)
    for (float &v : ds.x.data)
      v /= 255.0f;
  ds.y.data = std::move(lab.values.data);
  if (lab.values.shape.size() == 1)
    ds.y.shape = {n};
  else
    ds.y.shape = {n, static_cast<int64_t>(pair.labelHeader.count /
                                          pair.labelHeader.dims[0])};
  return ds;
}

int64_t idxRows(const std::string &prefix) {
  auto [images, labels] = findPair(prefix);
  return OpenPair(images, labels).imageHeader.dims[0];
}

Dataset loadIdx(const std::string &prefix, RowRange rows) {
  auto [images, labels] = findPair(prefix);
  return loadIdxFiles(images, labels, rows);
}

namespace {

std::pair<std::string, std::string> findPair(const std::string &prefixIn) {
  std::string prefix = prefixIn;
  if (isDirectory(prefix)) {
    std::set<std::string> found = prefixesIn(prefix);
    std::string dir = prefix.back() == '/' ? prefix : prefix + "/";
    if (found.size() != 1) {
      std::string msg = prefixIn + ": error: ";
      if (found.empty()) {
        msg += "directory holds no IDX images file (*-images-idx3-ubyte)";
      } else {
        msg += "directory holds several IDX data sets (";
        bool first = true;
        for (const std::string &f : found) {
          msg += (first ? "" : ", ") + f;
          first = false;
        }
        msg += "); name one, e.g. '" + dir + *found.begin() + "'";
      }
      throw UserError(msg);
    }
    prefix = dir + *found.begin();
  }
  if (isFile(prefix))
    throw UserError(prefixIn +
                    ": error: a file, not an IDX prefix: IDX data "
                    "is two files, named by their common prefix "
                    "(e.g. 'data/train' for "
                    "'data/train-images-idx3-ubyte')\n" +
                    prefixIn +
                    ": help: for CSV data, use a name ending in "
                    "'.csv' or csv(\"" +
                    prefixIn + "\")");
  std::vector<std::string> tried;
  std::string images = findPart(prefix, "images-idx3-ubyte", tried);
  if (images.empty())
    throw UserError(prefixIn + ": error: no IDX images file: tried '" +
                    tried[0] + "' and '" + tried[1] + "'");
  tried.clear();
  std::string labels = findPart(prefix, "labels-idx1-ubyte", tried);
  if (labels.empty())
    throw UserError(prefixIn + ": error: no IDX labels file: tried '" +
                    tried[0] + "' and '" + tried[1] + "'");
  return {images, labels};
}

} // namespace

} // namespace nn
