//===- IdxTest.cpp - IDX reader tests -------------------------------------===//
///
/// \file
/// Small IDX files written here (plain and gzipped), every error the reader
/// reports, and the real Fashion-MNIST files when they are installed.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Dataset.h"
#include "runtime/Idx.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <sys/stat.h>

using namespace nn;
using namespace nn::testing;

namespace {

/// 3 images of 2x2 and their labels.
const std::vector<int> kPixels = {0, 255, 51,  102, 1,  2,
                                  3, 4,   200, 100, 50, 25};
const std::vector<int> kLabels = {7, 0, 9};

std::string imagesFile() { return idxBytes(0x08, {3, 2, 2}, u8s(kPixels)); }
std::string labelsFile() { return idxBytes(0x08, {3}, u8s(kLabels)); }

void expectSmallDataset(const Dataset &ds) {
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{3, 4}));
  ASSERT_EQ(ds.y.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(ds.size(), 3);
  for (size_t i = 0; i < kPixels.size(); ++i)
    EXPECT_EQ(ds.x.data[i], static_cast<float>(kPixels[i]) / 255.0f) << i;
  for (size_t i = 0; i < kLabels.size(); ++i)
    EXPECT_EQ(ds.y.data[i], static_cast<float>(kLabels[i]));
}

} // namespace

TEST(Idx, PlainPrefix) {
  ScratchDir dir;
  writeBytes(dir.path("train-images-idx3-ubyte"), imagesFile());
  writeBytes(dir.path("train-labels-idx1-ubyte"), labelsFile());
  Dataset ds = loadIdx(dir.path("train"));
  expectSmallDataset(ds);
  EXPECT_EQ(ds.x.data[1], 1.0f);
  EXPECT_EQ(ds.x.data[0], 0.0f);
}

TEST(Idx, GzippedPrefix) {
  ScratchDir dir;
  writeGzip(dir.path("t10k-images-idx3-ubyte.gz"), imagesFile());
  writeGzip(dir.path("t10k-labels-idx1-ubyte.gz"), labelsFile());
  expectSmallDataset(loadIdx(dir.path("t10k")));
}

TEST(Idx, MixedAndDottedNames) {
  ScratchDir dir;
  writeGzip(dir.path("a-images.idx3-ubyte.gz"), imagesFile());
  writeBytes(dir.path("a-labels.idx1-ubyte"), labelsFile());
  expectSmallDataset(loadIdx(dir.path("a")));
}

TEST(Idx, ExplicitFiles) {
  ScratchDir dir;
  writeBytes(dir.path("img"), imagesFile());
  writeGzip(dir.path("lab.gz"), labelsFile());
  Dataset ds = loadIdxFiles(dir.path("img"), dir.path("lab.gz"));
  expectSmallDataset(ds);
  EXPECT_EQ(ds.source, dir.path("img"));
}

TEST(Idx, DirectoryWithOneSet) {
  ScratchDir dir;
  writeBytes(dir.path("train-images-idx3-ubyte"), imagesFile());
  writeBytes(dir.path("train-labels-idx1-ubyte"), labelsFile());
  expectSmallDataset(loadIdx(dir.dir));
}

TEST(Idx, DirectoryErrors) {
  ScratchDir dir;
  EXPECT_USER_ERROR(loadIdx(dir.dir), "directory holds no IDX images file");
  writeBytes(dir.path("train-images-idx3-ubyte"), imagesFile());
  writeBytes(dir.path("t10k-images-idx3-ubyte.gz"), imagesFile());
  std::string msg = userErrorOf([&] { loadIdx(dir.dir); });
  EXPECT_NE(msg.find("several IDX data sets (t10k, train)"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("name one, e.g. '" + dir.dir + "/t10k'"),
            std::string::npos)
      << msg;
}

TEST(Idx, MissingFiles) {
  ScratchDir dir;
  std::string prefix = dir.path("train");
  EXPECT_USER_ERROR(loadIdx(prefix),
                    prefix + ": error: no IDX images file: tried '" + prefix +
                        "-images-idx3-ubyte' and '" + prefix +
                        "-images-idx3-ubyte.gz'");
  writeBytes(dir.path("train-images-idx3-ubyte"), imagesFile());
  EXPECT_USER_ERROR(loadIdx(prefix), "no IDX labels file: tried '" + prefix +
                                         "-labels-idx1-ubyte'");
  EXPECT_USER_ERROR(readIdx(dir.path("nope")),
                    dir.path("nope") + ": error: cannot open file: No such "
                                       "file or directory");
  EXPECT_USER_ERROR(readIdx(dir.dir), "is a directory");
}

TEST(Idx, AllTypesBigEndian) {
  struct Case {
    uint8_t type;
    std::string payload;
    std::vector<float> want;
  };
  // Values chosen so that a little-endian misread gives other numbers.
  float f = -1.5f;
  uint32_t fb;
  std::memcpy(&fb, &f, 4);
  double d = 1234.25;
  uint64_t db;
  std::memcpy(&db, &d, 8);
  std::string fpay, dpay;
  for (int s = 24; s >= 0; s -= 8)
    fpay += static_cast<char>((fb >> s) & 0xFF);
  for (int s = 56; s >= 0; s -= 8)
    dpay += static_cast<char>((db >> s) & 0xFF);
  std::vector<Case> cases = {
      {0x08, u8s({0x01, 0xFF}), {1, 255}},
      {0x09, u8s({0x01, 0xFF}), {1, -1}},
      {0x0B, u8s({0x01, 0x02, 0xFF, 0xFE}), {258, -2}},
      {0x0C,
       u8s({0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFD}),
       {65536, -3}},
      {0x0D, fpay + fpay, {-1.5f, -1.5f}},
      {0x0E, dpay + dpay, {1234.25f, 1234.25f}},
  };
  ScratchDir dir;
  for (const Case &c : cases) {
    std::string p = dir.path("t" + std::to_string(c.type));
    writeBytes(p, idxBytes(c.type, {2}, c.payload));
    IdxArray a = readIdx(p);
    EXPECT_EQ(static_cast<int>(a.type), c.type);
    ASSERT_EQ(a.values.shape, (std::vector<int64_t>{2}));
    EXPECT_EQ(a.values.data, c.want) << "type " << int(c.type);
  }
}

TEST(Idx, FloatImagesAreNotScaled) {
  ScratchDir dir;
  std::string pay;
  for (float v : {2.0f, -3.0f}) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    for (int s = 24; s >= 0; s -= 8)
      pay += static_cast<char>((b >> s) & 0xFF);
  }
  writeBytes(dir.path("img"), idxBytes(0x0D, {2, 1}, pay));
  writeBytes(dir.path("lab"),
             idxBytes(0x0C, {2, 1}, u8s({0, 0, 0, 5, 0, 0, 0, 6})));
  Dataset ds = loadIdxFiles(dir.path("img"), dir.path("lab"));
  EXPECT_EQ(ds.x.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ds.x.data, (std::vector<float>{2.0f, -3.0f}));
  // Labels of rank 2 stay [n, k].
  EXPECT_EQ(ds.y.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ds.y.data, (std::vector<float>{5.0f, 6.0f}));
}

TEST(Idx, HeaderErrors) {
  ScratchDir dir;
  std::string p = dir.path("f");
  auto check = [&](const std::string &bytes, const std::string &want) {
    writeBytes(p, bytes);
    EXPECT_USER_ERROR(readIdx(p), p + ": error: " + want);
  };
  check(u8s({0x00, 0x00}),
        "not an IDX file: too short for the 4-byte magic number (2 bytes) "
        "(byte offset 2)");
  check("", "not an IDX file: too short for the 4-byte magic number (0 bytes) "
            "(byte offset 0)");
  check("hello, world\n", "not an IDX file: bad magic number 0x68656c6c");
  check(idxBytes(0x0A, {1}, u8s({1})),
        "unknown IDX data type 0x0a (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or "
        "0x0e) (byte offset 2)");
  check(u8s({0, 0, 8, 0}), "IDX file declares 0 dimensions (byte offset 3)");
  check(idxBytes(0x08, {2, 0}, ""), "dimension 1 is 0 (byte offset 8)");
  check(idxBytes(0x08, {0x80000000u}, ""),
        "dimension 0 is too large (2147483648) (byte offset 4)");
  check(idxBytes(0x08, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}, ""),
        "the dimensions' product overflows (byte offset 12)");
  check(idxBytes(0x0E, {1000000}, u8s({1, 2})),
        "truncated IDX file: the header announces 1000000 values of 8 bytes, "
        "more than the file can hold (byte offset 8)");
  check(u8s({0, 0, 8, 3, 0, 0, 0, 1, 0, 0}),
        "truncated IDX header: 3 dimensions need 12 bytes, found 6 (byte "
        "offset 10)");
}

TEST(Idx, TruncatedAtEveryOffset) {
  ScratchDir dir;
  std::string full = imagesFile();
  std::string p = dir.path("cut");
  for (size_t len = 0; len < full.size(); ++len) {
    writeBytes(p, full.substr(0, len));
    std::string msg = userErrorOf([&] { readIdx(p); });
    EXPECT_EQ(msg.rfind(p + ": error: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("(byte offset " + std::to_string(len) + ")"),
              std::string::npos)
        << "length " << len << ": " << msg;
  }
  // In the data: the message says how much is missing.
  writeBytes(p, full.substr(0, full.size() - 3));
  EXPECT_USER_ERROR(readIdx(p),
                    "truncated IDX file: the header announces 12 values (12 "
                    "bytes of data) but the data ends after 9 bytes (byte "
                    "offset 25)");
}

TEST(Idx, TruncatedGzip) {
  ScratchDir dir;
  // Big enough that a cut stream lacks both data and the gzip trailer.
  std::string pay(5000, '\0');
  for (size_t i = 0; i < pay.size(); ++i)
    pay[i] = static_cast<char>((i * 7919) % 251);
  std::string full = idxBytes(0x08, {5000}, pay);
  writeGzip(dir.path("ok.gz"), full);
  EXPECT_EQ(readIdx(dir.path("ok.gz")).values.numel(), 5000);
  std::string gz = readBytes(dir.path("ok.gz"));
  for (size_t len : {size_t(5), size_t(20), gz.size() / 2, gz.size() - 4}) {
    writeBytes(dir.path("cut.gz"), gz.substr(0, len));
    std::string msg = userErrorOf([&] { readIdx(dir.path("cut.gz")); });
    EXPECT_EQ(msg.rfind(dir.path("cut.gz") + ": error: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("byte offset"), std::string::npos) << msg;
  }
  // A corrupt byte in the compressed stream.
  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x55;
  writeBytes(dir.path("bad.gz"), bad);
  std::string msg = userErrorOf([&] { readIdx(dir.path("bad.gz")); });
  EXPECT_EQ(msg.rfind(dir.path("bad.gz") + ": error: ", 0), 0u) << msg;
}

TEST(Idx, TrailingData) {
  ScratchDir dir;
  writeBytes(dir.path("f"), imagesFile() + "x");
  EXPECT_USER_ERROR(readIdx(dir.path("f")),
                    "trailing data after the 12 values the IDX header "
                    "announces (byte offset 28)");
  writeGzip(dir.path("g.gz"), imagesFile() + "xyz");
  EXPECT_USER_ERROR(readIdx(dir.path("g.gz")),
                    "(byte offset 28 of the decompressed data)");
}

TEST(Idx, CountMismatch) {
  ScratchDir dir;
  writeBytes(dir.path("s-images-idx3-ubyte"), imagesFile());
  writeBytes(dir.path("s-labels-idx1-ubyte"), idxBytes(0x08, {2}, u8s({1, 2})));
  EXPECT_USER_ERROR(loadIdx(dir.path("s")),
                    dir.path("s-labels-idx1-ubyte") +
                        ": error: 2 labels, but '" +
                        dir.path("s-images-idx3-ubyte") + "' holds 3 images");
}

TEST(Idx, GarbageNeverCrashes) {
  // Random bytes behind a plausible header: every outcome is a value or a
  // UserError.
  uint64_t s = 12345;
  auto rnd = [&] {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint8_t>(s >> 56);
  };
  int errors = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> b(rnd() % 40);
    for (auto &x : b)
      x = rnd();
    if (b.size() >= 4 && iter % 2 == 0) {
      b[0] = b[1] = 0;
      b[2] = 0x08 + rnd() % 7;
      b[3] = rnd() % 4;
    }
    try {
      IdxArray a = parseIdx("mem", b.data(), b.size());
      EXPECT_EQ(a.values.numel(), static_cast<int64_t>(a.values.data.size()));
    } catch (const UserError &e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).rfind("mem: error: ", 0), 0u);
    }
  }
  EXPECT_GT(errors, 0);
}

namespace {
const char *kFashion = "/usr/share/datasets/fashion-mnist";

bool haveFashion() {
  struct stat st;
  return ::stat((std::string(kFashion) + "/train-images-idx3-ubyte.gz").c_str(),
                &st) == 0;
}
} // namespace

TEST(Idx, FashionMnistTrain) {
  if (!haveFashion())
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashion
                 << " (Debian package dataset-fashion-mnist)";
  auto t0 = std::chrono::steady_clock::now();
  Dataset ds = loadIdx(std::string(kFashion) + "/train");
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::printf("loaded 60000 Fashion-MNIST images in %.3f s\n", secs);
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{60000, 784}));
  ASSERT_EQ(ds.y.shape, (std::vector<int64_t>{60000}));
  std::vector<float> first(ds.y.data.begin(), ds.y.data.begin() + 10);
  EXPECT_EQ(first, (std::vector<float>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  float lo = 1, hi = 0;
  for (float v : ds.x.data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  // Pixel sum of the first image (76247 / 255) and its centre pixel (217).
  double sum = 0;
  for (int i = 0; i < 784; ++i)
    sum += ds.x.data[i];
  EXPECT_NEAR(sum * 255.0, 76247.0, 1e-2);
  EXPECT_EQ(ds.x.data[14 * 28 + 14], 217.0f / 255.0f);
  for (float v : ds.y.data)
    ASSERT_TRUE(v >= 0 && v <= 9 && v == std::floor(v));
}

TEST(Idx, FashionMnistTest) {
  if (!haveFashion())
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kFashion;
  Dataset ds = loadIdx(std::string(kFashion) + "/t10k");
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{10000, 784}));
  std::vector<float> first(ds.y.data.begin(), ds.y.data.begin() + 10);
  EXPECT_EQ(first, (std::vector<float>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(ds.x.data[14 * 28 + 14], 110.0f / 255.0f);
}

TEST(Idx, TinyFashionInTheRepository) {
  Dataset ds =
      loadIdx(std::string(NNC_SOURCE_DIR) + "/tests/data/fashion-tiny");
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{256, 784}));
  ASSERT_EQ(ds.y.shape, (std::vector<int64_t>{256}));
  std::vector<float> first(ds.y.data.begin(), ds.y.data.begin() + 10);
  EXPECT_EQ(first, (std::vector<float>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  // The first image's centre pixel, as in the full training set.
  EXPECT_EQ(ds.x.data[14 * 28 + 14], 217.0f / 255.0f);
}
