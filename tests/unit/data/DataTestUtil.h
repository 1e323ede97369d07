//===- DataTestUtil.h - Helpers for the data tests -------------*- C++ -*-===//
///
/// \file
/// A scratch directory per test, file writers (plain and gzipped), IDX
/// bytes, and an expectation that a call throws a UserError containing given
/// text.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <zlib.h>

namespace nn::testing {

/// A fresh directory, removed with everything in it at the end of the test.
class ScratchDir {
public:
  ScratchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "nnc-data-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char *made = ::mkdtemp(buf.data());
    if (!made)
      throw std::runtime_error("mkdtemp failed");
    dir = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  /// The names of the files in the directory, sorted.
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    for (const auto &e : std::filesystem::directory_iterator(dir))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// An IDX file: magic, big-endian dims, then `payload` as given.
inline std::string idxBytes(uint8_t type, const std::vector<uint32_t> &dims,
                            const std::string &payload) {
  std::string out = {0, 0, static_cast<char>(type),
                     static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8)
      out += static_cast<char>((d >> s) & 0xFF);
  return out + payload;
}

/// Bytes with these values (0..255).
inline std::string u8s(const std::vector<int> &v) {
  std::string s;
  for (int x : v)
    s += static_cast<char>(x);
  return s;
}

/// The low `n` bytes of `bits`, big-endian.
inline std::string beBytes(uint64_t bits, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i)
    s += static_cast<char>((bits >> (8 * i)) & 0xFF);
  return s;
}

/// float32 values, big-endian (IDX type 0x0d).
inline std::string f32s(const std::vector<float> &v) {
  std::string s;
  for (float x : v)
    s += beBytes(std::bit_cast<uint32_t>(x), 4);
  return s;
}

/// The message of the UserError `f` throws, or "<no error>" / "<other: ...>".
template <typename F> std::string userErrorOf(F &&f) {
  try {
    f();
  } catch (const UserError &e) {
    return e.what();
  } catch (const std::exception &e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

} // namespace nn::testing

/// Expects `stmt` to throw a UserError whose message contains `text`.
#define EXPECT_USER_ERROR(stmt, text)                                          \
  do {                                                                         \
    std::string msg_ = ::nn::testing::userErrorOf([&] { (void)(stmt); });      \
    EXPECT_NE(msg_.find(text), std::string::npos)                              \
        << "message: " << msg_ << "\nexpected to contain: " << (text);         \
  } while (0)
