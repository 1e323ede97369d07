//===- SafetensorsTest.cpp - Safetensors reader and writer tests ----------===//
///
/// \file
/// Round trips, metadata, the layout other readers rely on, and damaged
/// files: truncated at every byte, corrupt bytes, garbage, bad headers.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/AtomicFile.h"
#include "runtime/Crc32.h"
#include "runtime/Safetensors.h"

#include <cmath>
#include <cstring>

using namespace nn;
using namespace nn::testing;

namespace {

TensorMap sampleTensors() {
  TensorMap m;
  Tensor w({2, 3});
  for (int i = 0; i < 6; ++i)
    w[i] = 0.5f * i - 1.25f;
  m["fc1.weight"] = w;
  Tensor b({2});
  b[0] = 3.0f;
  b[1] = -0.0f;
  m["fc1.bias"] = b;
  Tensor s(std::vector<int64_t>{});
  s[0] = 42.0f;
  m["scalar"] = s;
  m["empty"] = Tensor({0, 4});
  return m;
}

/// A safetensors file from a JSON header and raw data bytes.
std::string rawFile(std::string json, const std::string &data) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(n >> (8 * i));
  return out + json + data;
}

std::string floatsLE(const std::vector<float> &v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string parseError(const std::string &bytes) {
  return userErrorOf([&] {
    parseSafetensors("w.st", reinterpret_cast<const uint8_t *>(bytes.data()),
                     bytes.size());
  });
}

} // namespace

TEST(Crc32, KnownValues) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("6789", 4, crc32("12345", 5)), 0xCBF43926u);
  EXPECT_EQ(crc32Hex(0xCBF43926u), "cbf43926");
  EXPECT_EQ(crc32Hex(0x1u), "00000001");
}

TEST(Safetensors, RoundTripWithMetadata) {
  ScratchDir dir;
  TensorMap m = sampleTensors();
  std::map<std::string, std::string> meta = {
      {"epoch", "3"}, {"note", "quote \" backslash \\ tab \t é"}};
  writeSafetensors(dir.path("w.safetensors"), m, meta);
  SafetensorsFile f = readSafetensors(dir.path("w.safetensors"));
  ASSERT_EQ(f.tensors.size(), m.size());
  for (const auto &[name, t] : m) {
    ASSERT_TRUE(f.tensors.count(name)) << name;
    EXPECT_EQ(f.tensors[name].shape, t.shape) << name;
    EXPECT_EQ(f.tensors[name].data, t.data) << name;
  }
  EXPECT_TRUE(std::signbit(f.tensors["fc1.bias"][1]));
  EXPECT_EQ(f.metadata.at("epoch"), "3");
  EXPECT_EQ(f.metadata.at("note"), meta["note"]);
  ASSERT_TRUE(f.metadata.count("crc32"));
  EXPECT_EQ(f.metadata.at("crc32").size(), 8u);
  // Only the file is left: no temp files.
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"w.safetensors"}));
}

TEST(Safetensors, LayoutIsWhatOtherReadersExpect) {
  TensorMap m;
  Tensor a({2});
  a[0] = 1.0f;
  a[1] = 2.0f;
  m["b"] = a;
  Tensor c({1});
  c[0] = -4.0f;
  m["a"] = c;
  std::string bytes = encodeSafetensors(m, {{"k", "v"}});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  std::string header = bytes.substr(8, n);
  std::string data = bytes.substr(8 + n);
  // Name order, contiguous from 0, and the data's crc in the metadata.
  std::string crc = crc32Hex(crc32(data.data(), data.size()));
  std::string want = "{\"__metadata__\":{\"crc32\":\"" + crc +
                     "\",\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\","
                     "\"shape\":[2],\"data_offsets\":[4,12]}}";
  EXPECT_EQ(header.substr(0, want.size()), want);
  EXPECT_EQ(header.find_first_not_of(' ', want.size()), std::string::npos);
  EXPECT_EQ(data, floatsLE({-4.0f, 1.0f, 2.0f}));
}

TEST(Safetensors, ReadsOtherDtypesAndPadding) {
  // F64, F16 (1.0, -2.0, a subnormal), BF16, I32, U8, BOOL; no crc.
  std::string data;
  double d[2] = {0.5, -8.25};
  data.append(reinterpret_cast<char *>(d), 16);       // 0..16 F64
  data += std::string("\x00\x3c\x00\xc0\x01\x00", 6); // 16..22 F16
  data += std::string("\x80\x3f\x40\xc0", 4);         // 22..26 BF16 1, -3
  int32_t i32[1] = {-7};
  data.append(reinterpret_cast<char *>(i32), 4); // 26..30 I32
  data += std::string("\xff\x00\x02", 3);        // 30..33 U8 / BOOL
  std::string json =
      "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
      "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
      "\"bf\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[22,26]},"
      "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[26,30]},"
      "\"u\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[30,31]},"
      "\"t\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[31,33]}}   ";
  std::string bytes = rawFile(json, data);
  SafetensorsFile f = parseSafetensors(
      "x", reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  EXPECT_EQ(f.tensors["d"].data, (std::vector<float>{0.5f, -8.25f}));
  EXPECT_EQ(f.tensors["h"][0], 1.0f);
  EXPECT_EQ(f.tensors["h"][1], -2.0f);
  EXPECT_EQ(f.tensors["h"][2], std::ldexp(1.0f, -24));
  EXPECT_EQ(f.tensors["bf"].data, (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(f.tensors["i"].shape, (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(f.tensors["i"][0], -7.0f);
  EXPECT_EQ(f.tensors["u"][0], 255.0f);
  EXPECT_EQ(f.tensors["t"].data, (std::vector<float>{0.0f, 1.0f}));
  EXPECT_TRUE(f.metadata.empty());
}

TEST(Safetensors, AtomicOverwriteKeepsOldFileOnFailure) {
  ScratchDir dir;
  std::string path = dir.path("w.safetensors");
  TensorMap old = sampleTensors();
  writeSafetensors(path, old, {{"v", "old"}});
  std::string before = readBytes(path);

  TensorMap next = sampleTensors();
  next["fc1.bias"][0] = 99.0f;
  std::string bytes = encodeSafetensors(next, {{"v", "new"}});
  // A disk that fills up half way through the write.
  std::string msg = userErrorOf([&] {
    writeFileAtomic(path, [&](std::FILE *f) {
      writeAll(f, bytes.data(), bytes.size() / 2);
      throw std::system_error(ENOSPC, std::generic_category());
    });
  });
  EXPECT_EQ(msg, path + ": error: cannot write file: No space left on device");
  EXPECT_EQ(readBytes(path), before);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"w.safetensors"}));
  EXPECT_EQ(readSafetensors(path).metadata.at("v"), "old");

  // And a successful overwrite replaces it.
  writeSafetensors(path, next, {{"v", "new"}});
  SafetensorsFile f = readSafetensors(path);
  EXPECT_EQ(f.metadata.at("v"), "new");
  EXPECT_EQ(f.tensors.at("fc1.bias")[0], 99.0f);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"w.safetensors"}));
}

TEST(Safetensors, WriteErrors) {
  ScratchDir dir;
  TensorMap bad;
  Tensor t({2, 2});
  t.data.resize(3);
  bad["w"] = t;
  std::string p = dir.path("w.safetensors");
  EXPECT_USER_ERROR(writeSafetensors(p, bad),
                    p + ": error: tensor 'w' has 3 values but shape [2, 2] "
                        "needs 4");
  TensorMap reserved;
  reserved["__metadata__"] = Tensor({1});
  EXPECT_USER_ERROR(writeSafetensors(p, reserved),
                    "'__metadata__' is reserved");
  EXPECT_USER_ERROR(
      writeSafetensors(dir.path("no/such/dir/w.safetensors"), sampleTensors()),
      dir.path("no/such/dir/w.safetensors") +
          ": error: cannot create a temporary file in '" +
          dir.path("no/such/dir") + "': No such file or directory");
  // A directory in the way of the target name: refused, no temp left.
  std::filesystem::create_directory(dir.path("taken"));
  EXPECT_USER_ERROR(writeSafetensors(dir.path("taken"), sampleTensors()),
                    dir.path("taken") + ": error: cannot write file: it is a "
                                        "directory");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"taken"}));
}

TEST(Safetensors, ReadFileErrors) {
  ScratchDir dir;
  EXPECT_USER_ERROR(readSafetensors(dir.path("none")),
                    dir.path("none") + ": error: cannot open file: No such "
                                       "file or directory");
  EXPECT_USER_ERROR(readSafetensors(dir.dir), "is a directory");
}

TEST(Safetensors, TruncatedAtEveryByte) {
  std::string full = encodeSafetensors(sampleTensors(), {{"a", "b"}});
  for (size_t len = 0; len < full.size(); ++len) {
    std::string msg = parseError(full.substr(0, len));
    EXPECT_EQ(msg.rfind("w.st: error: ", 0), 0u) << len << ": " << msg;
    EXPECT_NE(msg.find("(byte offset "), std::string::npos)
        << len << ": " << msg;
  }
  EXPECT_EQ(parseError(full.substr(0, 5)),
            "w.st: error: truncated safetensors file: 5 bytes, too short for "
            "the 8-byte header size (byte offset 5)");
  EXPECT_NE(parseError(full.substr(0, 40)).find("exceeds the file size"),
            std::string::npos);
  EXPECT_NE(parseError(full.substr(0, full.size() - 1))
                .find("out of range: the data buffer holds"),
            std::string::npos);
}

TEST(Safetensors, CorruptDataByteFailsTheChecksum) {
  ScratchDir dir;
  std::string p = dir.path("w.safetensors");
  writeSafetensors(p, sampleTensors());
  std::string bytes = readBytes(p);
  bytes[bytes.size() - 3] ^= 0x01;
  writeBytes(p, bytes);
  std::string msg = userErrorOf([&] { readSafetensors(p); });
  EXPECT_EQ(msg.rfind(p + ": error: checksum mismatch: the file is corrupt", 0),
            0u)
      << msg;
  EXPECT_NE(msg.find("(byte offset "), std::string::npos);
}

TEST(Safetensors, CorruptByteAnywhereNeverCrashes) {
  std::string full = encodeSafetensors(sampleTensors(), {{"a", "b"}});
  int rejected = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xFF}) {
      std::string b = full;
      b[i] = static_cast<char>(b[i] ^ flip);
      std::string msg = parseError(b);
      if (msg != "<no error>") {
        ++rejected;
        EXPECT_EQ(msg.rfind("w.st: error: ", 0), 0u) << msg;
      }
    }
  }
  // Some flips (e.g. inside the padding spaces or a metadata value) leave a
  // valid file; most must be caught.
  EXPECT_GT(rejected, static_cast<int>(full.size()));
}

TEST(Safetensors, RandomGarbage) {
  uint64_t s = 7;
  for (int iter = 0; iter < 2000; ++iter) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    std::string b((s >> 40) % 200, '\0');
    for (char &c : b) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      c = static_cast<char>(s >> 56);
    }
    if (iter % 2 == 0 && b.size() > 9) {
      // A plausible header size, so the JSON parser sees the garbage.
      uint64_t n = b.size() - 8 - (s >> 60) % 2;
      for (int i = 0; i < 8; ++i)
        b[i] = static_cast<char>(n >> (8 * i));
      b[8] = '{';
    }
    std::string msg = parseError(b);
    EXPECT_EQ(msg.rfind("w.st: error: ", 0), 0u) << msg;
  }
}

TEST(Safetensors, HeaderErrors) {
  std::string huge(8, '\xff');
  EXPECT_EQ(parseError(huge + "{}"),
            "w.st: error: header size 18446744073709551615 exceeds the file "
            "size (10 bytes): not a safetensors file, or truncated (byte "
            "offset 0)");
  EXPECT_EQ(parseError(rawFile("[]", "")),
            "w.st: error: bad JSON header: a safetensors header is a JSON "
            "object starting with '{' (byte offset 8)");
  EXPECT_EQ(parseError(rawFile("{\"a\" 1}", "")),
            "w.st: error: bad JSON header: expected ':', found character '1' "
            "(byte offset 13)");
  EXPECT_EQ(parseError(rawFile("{\"a\":{},\"a\":{}}", "")),
            "w.st: error: bad JSON header: duplicate key 'a' (byte offset 16)");
  EXPECT_EQ(parseError(rawFile("{}x", "")),
            "w.st: error: unexpected text after the JSON header (byte offset "
            "10)");
  EXPECT_EQ(parseError(rawFile("{\"a\\q\":1}", "")),
            "w.st: error: bad JSON header: unknown escape '\\q' (byte offset "
            "11)");
  std::string deep =
      "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_NE(parseError(rawFile(deep, "")).find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(parseError(rawFile("{\"a\":01}", "")).find("leading zero"),
            std::string::npos);
  EXPECT_EQ(parseError(rawFile("{\"__metadata__\":{\"k\":1}}", "")),
            "w.st: error: metadata 'k' must be a string, not a number (byte "
            "offset 29)");
}

TEST(Safetensors, EntryErrors) {
  auto err = [](const std::string &entry, const std::string &data = "") {
    return parseError(rawFile("{\"t\":" + entry + "}", data));
  };
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[1]}")
                .find("tensor 't' has no \"data_offsets\""),
            std::string::npos);
  EXPECT_NE(err("{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}",
                std::string(8, '\0'))
                .find("tensor 't': unsupported dtype 'C64'"),
            std::string::npos);
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}",
                std::string(4, '\0'))
                .find("shape entries must be non-negative integers"),
            std::string::npos);
  EXPECT_EQ(err("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}",
                std::string(4, '\0')),
            "w.st: error: tensor 't': data_offsets [0, 8] out of range: the "
            "data buffer holds 4 bytes (truncated file?) (byte offset 55)");
  EXPECT_EQ(err("{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}",
                std::string(8, '\0')),
            "w.st: error: tensor 't': shape [2, 2] of F32 needs 16 bytes, but "
            "data_offsets [0, 8] span 8 (byte offset 57)");
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                "\"data_offsets\":[0,8]}",
                std::string(8, '\0'))
                .find("needs more bytes"),
            std::string::npos);
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}",
                std::string(8, '\0'))
                .find("end before they begin"),
            std::string::npos);
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
                std::string(8, '\0'))
                .find("4 bytes of trailing data after the last tensor (byte "
                      "offset "),
            std::string::npos);
  EXPECT_NE(err("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}",
                std::string(8, '\0'))
                .find("gap in the data buffer: bytes 0 to 4"),
            std::string::npos);
  std::string two =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  EXPECT_NE(parseError(rawFile(two, std::string(8, '\0')))
                .find("tensors 'a' and 'b' overlap in the data buffer"),
            std::string::npos);
  EXPECT_NE(parseError(rawFile("{\"__metadata__\":{\"crc32\":\"xyz\"}}", ""))
                .find("bad crc32 metadata 'xyz'"),
            std::string::npos);
}
