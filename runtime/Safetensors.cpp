//===- Safetensors.cpp - Weights files in the safetensors format ----------===//
///
/// \file
/// A small JSON parser for the header (objects, arrays, strings with escapes,
/// numbers, literals; nesting limited), strict validation of every tensor
/// entry against the data buffer, and a writer that streams the data through
/// writeFileAtomic without copying it.
///
//===----------------------------------------------------------------------===//
#include "runtime/Safetensors.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/Crc32.h"
#include "runtime/Json.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace nn {

namespace {

//===----------------------------------------------------------------------===//
// Data types
//===----------------------------------------------------------------------===//

struct DType {
  const char *name;
  size_t size;
};

constexpr DType kDTypes[] = {{"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2},
                             {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
                             {"U8", 1},  {"BOOL", 1}};

const DType *findDType(const std::string &s) {
  for (const DType &d : kDTypes)
    if (s == d.name)
      return &d;
  return nullptr;
}

uint64_t loadLE(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;)
    v = (v << 8) | p[i];
  return v;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13); // inf or nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign; // signed zero
  } else {
    // Subnormal half: normalize.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((mant & 0x3FF) << 13);
  }
  return std::bit_cast<float>(bits);
}

void convertToFloat(const DType &dt, const uint8_t *p, size_t count,
                    float *out) {
  std::string n = dt.name;
  if (n == "F32") {
    if constexpr (std::endian::native == std::endian::little) {
      if (count)
        std::memcpy(out, p, count * 4);
    } else {
      for (size_t i = 0; i < count; ++i)
        out[i] =
            std::bit_cast<float>(static_cast<uint32_t>(loadLE(p + 4 * i, 4)));
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const uint8_t *q = p + i * dt.size;
    float v;
    if (n == "F64")
      v = static_cast<float>(std::bit_cast<double>(loadLE(q, 8)));
    else if (n == "F16")
      v = halfToFloat(static_cast<uint16_t>(loadLE(q, 2)));
    else if (n == "BF16")
      v = std::bit_cast<float>(static_cast<uint32_t>(loadLE(q, 2)) << 16);
    else if (n == "I64")
      v = static_cast<float>(static_cast<int64_t>(loadLE(q, 8)));
    else if (n == "I32")
      v = static_cast<float>(static_cast<int32_t>(loadLE(q, 4)));
    else if (n == "I16")
      v = static_cast<float>(static_cast<int16_t>(loadLE(q, 2)));
    else if (n == "I8")
      v = static_cast<float>(static_cast<int8_t>(q[0]));
    else if (n == "U8")
      v = static_cast<float>(q[0]);
    else // BOOL
      v = q[0] ? 1.0f : 0.0f;
    out[i] = v;
  }
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// A tensor entry of the header, validated against the header alone.
struct Entry {
  std::string name;
  const DType *dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
  size_t offsetsAt; // header offset of data_offsets, for messages
};

/// Reads one safetensors image: each step checks one thing and fails with
/// the file name and byte offset.
class Reader {
public:
  Reader(const std::string &name, const uint8_t *data, size_t size)
      : name(name), data(data), size(size) {}

  SafetensorsFile read() {
    Json root = parseHeader();
    for (const auto &[key, value] : root.fields) {
      if (key == "__metadata__")
        readMetadata(value);
      else
        entries.push_back(readEntry(key, value));
    }
    checkTiling();
    checkCrc();
    for (const Entry &e : entries) {
      Tensor t;
      t.shape = e.shape;
      size_t count = static_cast<size_t>((e.end - e.begin) / e.dtype->size);
      t.data.resize(count);
      convertToFloat(*e.dtype, buffer + e.begin, count, t.data.data());
      out.tensors.emplace(e.name, std::move(t));
    }
    return std::move(out);
  }

private:
  const std::string &name;
  const uint8_t *data;
  size_t size;
  const uint8_t *buffer = nullptr;
  uint64_t bufferSize = 0, bufferAt = 0;
  SafetensorsFile out;
  std::vector<Entry> entries;

  [[noreturn]] void fail(const std::string &msg, uint64_t offset) const {
    throw UserError(name + ": error: " + msg + " (byte offset " +
                    std::to_string(offset) + ")");
  }
  [[noreturn]] void failAt(const std::string &msg, size_t headerOffset) const {
    failJson(name, 8, msg, headerOffset);
  }

  /// The 8-byte size, the JSON header, and where the data buffer lies.
  Json parseHeader() {
    if (size < 8)
      fail("truncated safetensors file: " + std::to_string(size) +
               " bytes, too short for the 8-byte header size",
           size);
    uint64_t headerSize = loadLE(data, 8);
    constexpr uint64_t kMaxHeader = 100u << 20;
    if (headerSize > size - 8)
      fail("header size " + std::to_string(headerSize) +
               " exceeds the file size (" + std::to_string(size) +
               " bytes): not a safetensors file, or truncated",
           0);
    if (headerSize > kMaxHeader)
      fail("header size " + std::to_string(headerSize) +
               " is too large (at most 100 MiB)",
           0);
    if (headerSize < 2 || data[8] != '{')
      fail("bad JSON header: a safetensors header is a JSON object starting "
           "with '{'",
           8);
    buffer = data + 8 + headerSize;
    bufferSize = size - 8 - headerSize;
    bufferAt = 8 + headerSize;
    return parseJson(name, reinterpret_cast<const char *>(data + 8),
                     static_cast<size_t>(headerSize), 8);
  }

  void readMetadata(const Json &value) {
    if (value.kind != Json::Kind::Object)
      failAt("__metadata__ must be an object of strings", value.offset);
    for (const auto &[mk, mv] : value.fields) {
      if (mv.kind != Json::Kind::String)
        failAt("metadata '" + mk + "' must be a string, not " +
                   jsonKindName(mv.kind),
               mv.offset);
      out.metadata[mk] = mv.str;
    }
  }

  /// The field `what` of tensor `key`'s object.
  const Json &field(const std::string &key, const Json &value,
                    const char *what) const {
    for (const auto &[fk, fv] : value.fields)
      if (fk == what)
        return fv;
    failAt("tensor '" + key + "' has no \"" + what + "\"", value.offset);
  }

  Entry readEntry(const std::string &key, const Json &value) {
    if (value.kind != Json::Kind::Object)
      failAt("tensor '" + key + "' must be an object, not " +
                 jsonKindName(value.kind),
             value.offset);
    const Json &dtype = field(key, value, "dtype");
    const Json &shape = field(key, value, "shape");
    const Json &offsets = field(key, value, "data_offsets");
    Entry e;
    e.name = key;
    if (dtype.kind != Json::Kind::String)
      failAt("tensor '" + key + "': dtype must be a string", dtype.offset);
    e.dtype = findDType(dtype.str);
    if (!e.dtype)
      failAt("tensor '" + key + "': unsupported dtype '" + dtype.str +
                 "' (nnc reads F32, F64, F16, BF16, I64, I32, I16, I8, U8 "
                 "and BOOL)",
             dtype.offset);
    bool tooBig = false;
    uint64_t bytes = readShape(key, shape, e, tooBig);
    readOffsets(key, offsets, e);
    std::string span =
        "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (tooBig || bytes != e.end - e.begin)
      failAt("tensor '" + key + "': shape " + shapeStr(e.shape, ", ") + " of " +
                 e.dtype->name + " needs " +
                 (tooBig ? std::string("more") : std::to_string(bytes)) +
                 " bytes, but data_offsets " + span + " span " +
                 std::to_string(e.end - e.begin),
             e.offsetsAt);
    return e;
  }

  /// Fills e.shape; returns the bytes it needs, or sets `tooBig` when they
  /// overflow (every element needs dtype bytes in the buffer, which bounds
  /// the product).
  uint64_t readShape(const std::string &key, const Json &shape, Entry &e,
                     bool &tooBig) const {
    if (shape.kind != Json::Kind::Array)
      failAt("tensor '" + key + "': shape must be an array", shape.offset);
    uint64_t numel = 1;
    for (const Json &d : shape.items) {
      if (!d.isUint)
        failAt("tensor '" + key +
                   "': shape entries must be non-negative "
                   "integers",
               d.offset);
      if (d.uint > static_cast<uint64_t>(INT64_MAX))
        tooBig = true;
      e.shape.push_back(static_cast<int64_t>(d.uint));
      if (d.uint != 0 && numel > UINT64_MAX / d.uint)
        tooBig = true;
      else
        numel *= d.uint;
    }
    for (int64_t d : e.shape)
      if (d == 0)
        numel = 0, tooBig = false;
    if (!tooBig && numel > UINT64_MAX / e.dtype->size)
      tooBig = true;
    return tooBig ? 0 : numel * e.dtype->size;
  }

  void readOffsets(const std::string &key, const Json &offsets,
                   Entry &e) const {
    if (offsets.kind != Json::Kind::Array || offsets.items.size() != 2 ||
        !offsets.items[0].isUint || !offsets.items[1].isUint)
      failAt("tensor '" + key +
                 "': data_offsets must be [begin, end] with "
                 "non-negative integers",
             offsets.offset);
    e.begin = offsets.items[0].uint;
    e.end = offsets.items[1].uint;
    e.offsetsAt = offsets.offset;
    std::string span =
        "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.end < e.begin)
      failAt("tensor '" + key + "': data_offsets " + span +
                 " end before "
                 "they begin",
             e.offsetsAt);
    if (e.end > bufferSize)
      failAt("tensor '" + key + "': data_offsets " + span +
                 " out of range: the data buffer holds " +
                 std::to_string(bufferSize) + " bytes (truncated file?)",
             e.offsetsAt);
  }

  /// The tensors must tile the buffer: no overlap, no gap, nothing after.
  void checkTiling() const {
    std::vector<const Entry *> order;
    for (const Entry &e : entries)
      order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry *a, const Entry *b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    uint64_t expect = 0;
    const Entry *prev = nullptr;
    for (const Entry *e : order) {
      if (e->begin < expect)
        failAt("tensors '" + prev->name + "' and '" + e->name +
                   "' overlap in the data buffer",
               e->offsetsAt);
      if (e->begin > expect)
        failAt("gap in the data buffer: bytes " + std::to_string(expect) +
                   " to " + std::to_string(e->begin) +
                   " belong to no tensor (before '" + e->name + "')",
               e->offsetsAt);
      expect = e->end;
      prev = e;
    }
    if (expect != bufferSize)
      fail(std::to_string(bufferSize - expect) +
               " bytes of trailing data after the last tensor",
           bufferAt + expect);
  }

  void checkCrc() const {
    auto crc = out.metadata.find(kCrc32Key);
    if (crc == out.metadata.end())
      return;
    uint32_t actual = crc32(buffer, static_cast<size_t>(bufferSize));
    if (crc->second.size() != 8 ||
        crc->second.find_first_not_of("0123456789abcdefABCDEF") !=
            std::string::npos)
      fail("bad crc32 metadata '" + crc->second + "' (expected 8 hex digits)",
           8);
    std::string want = crc->second;
    std::transform(want.begin(), want.end(), want.begin(),
                   [](char c) { return std::tolower(c); });
    if (want != crc32Hex(actual))
      fail("checksum mismatch: the file is corrupt (the data's crc32 is " +
               crc32Hex(actual) + ", the header says " + crc->second + ")",
           bufferAt);
  }
};

} // namespace

SafetensorsFile parseSafetensors(const std::string &name, const uint8_t *data,
                                 size_t size) {
  return Reader(name, data, size).read();
}

SafetensorsFile readSafetensors(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw UserError(path +
                    ": error: cannot open file: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw UserError(path + ": error: is a directory, not a safetensors file");
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> f(
      std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f)
    throw UserError(path +
                    ": error: cannot open file: " + std::strerror(errno));
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t got =
      bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f.get());
  if (got != bytes.size())
    throw UserError(path +
                    ": error: cannot read file (the file changed "
                    "size while being read?) (byte offset " +
                    std::to_string(got) + ")");
  return parseSafetensors(path, bytes.data(), bytes.size());
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

/// Checks the tensors and builds the padded header; returns the header (with
/// its 8-byte size prefix).
std::string buildHeader(const TensorMap &tensors,
                        std::map<std::string, std::string> metadata) {
  uint32_t crc = 0;
  for (const auto &[name, t] : tensors) {
    if (name.empty())
      throw UserError("error: a tensor has an empty name");
    if (name == "__metadata__")
      throw UserError("error: '__metadata__' is reserved and cannot name a "
                      "tensor");
    for (int64_t d : t.shape)
      if (d < 0)
        throw UserError("error: tensor '" + name +
                        "' has a negative "
                        "dimension in shape " +
                        shapeStr(t.shape, ", "));
    if (static_cast<int64_t>(t.data.size()) != t.numel())
      throw UserError("error: tensor '" + name + "' has " +
                      std::to_string(t.data.size()) + " values but shape " +
                      shapeStr(t.shape, ", ") + " needs " +
                      std::to_string(t.numel()));
    if constexpr (std::endian::native == std::endian::little) {
      crc = crc32(t.data.data(), t.data.size() * sizeof(float), crc);
    } else {
      for (float v : t.data) {
        uint32_t b = std::bit_cast<uint32_t>(v);
        uint8_t le[4] = {uint8_t(b), uint8_t(b >> 8), uint8_t(b >> 16),
                         uint8_t(b >> 24)};
        crc = crc32(le, 4, crc);
      }
    }
  }
  metadata[kCrc32Key] = crc32Hex(crc);

  std::string json = "{\"__metadata__\":{";
  bool first = true;
  for (const auto &[k, v] : metadata) {
    json += (first ? "" : ",") + jsonString(k) + ":" + jsonString(v);
    first = false;
  }
  json += "}";
  uint64_t offset = 0;
  for (const auto &[name, t] : tensors) {
    uint64_t bytes = static_cast<uint64_t>(t.data.size()) * sizeof(float);
    json += "," + jsonString(name) + ":{\"dtype\":\"F32\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i)
      json += (i ? "," : "") + std::to_string(t.shape[i]);
    json += "],\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  json += "}";
  while (json.size() % 8 != 0)
    json += ' ';
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + json;
}

/// Writes a tensor's values as little-endian float32.
template <typename Sink> void emitData(const Tensor &t, Sink &&sink) {
  if constexpr (std::endian::native == std::endian::little) {
    sink(t.data.data(), t.data.size() * sizeof(float));
  } else {
    std::vector<uint8_t> le(t.data.size() * 4);
    for (size_t i = 0; i < t.data.size(); ++i) {
      uint32_t b = std::bit_cast<uint32_t>(t.data[i]);
      for (int k = 0; k < 4; ++k)
        le[4 * i + k] = static_cast<uint8_t>(b >> (8 * k));
    }
    sink(le.data(), le.size());
  }
}

} // namespace

std::string
encodeSafetensors(const TensorMap &tensors,
                  const std::map<std::string, std::string> &metadata) {
  std::string out = buildHeader(tensors, metadata);
  for (const auto &[name, t] : tensors)
    emitData(t, [&](const void *p, size_t n) {
      out.append(static_cast<const char *>(p), n);
    });
  return out;
}

void writeSafetensors(const std::string &path, const TensorMap &tensors,
                      const std::map<std::string, std::string> &metadata) {
  std::string header;
  try {
    header = buildHeader(tensors, metadata);
  } catch (const UserError &e) {
    throw UserError(path + ": " + e.what());
  }
  writeFileAtomic(path, [&](std::FILE *f) {
    writeAll(f, header.data(), header.size());
    for (const auto &[name, t] : tensors)
      emitData(t, [&](const void *p, size_t n) { writeAll(f, p, n); });
  });
}

} // namespace nn
