//===- RowRangeTest.cpp - Loading a range of a data file's rows -----------===//
///
/// \file
/// The range loaders (one process of a data-parallel run reads only its
/// shard): every range of plain and gzipped IDX pairs and of CSV files
/// equals selectRows of the whole file; bad ranges, truncated files (inside
/// and outside the range) and bad values are reported as the whole-file
/// loaders report them, with the file's own sample and line numbers.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Csv.h"
#include "runtime/Dataset.h"
#include "runtime/Idx.h"

#include <cmath>
#include <fstream>
#include <numeric>

using namespace nn;
using namespace nn::testing;

namespace {

constexpr int kRows = 5; // images of 2x3
constexpr int kRowBytes = 6;
constexpr int kHeader = 16; // magic + 3 dimensions

std::string imagesFile() {
  std::vector<int> px(kRows * kRowBytes);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<int>((i * 37 + 11) % 256);
  return idxBytes(0x08, {kRows, 2, 3}, u8s(px));
}

std::string labelsFile() { return idxBytes(0x08, {kRows}, u8s({3, 1, 4, 1, 5})); }

/// Writes the pair "<dir>/s-{images,labels}-..." plain or gzipped; returns
/// the prefix.
std::string writePair(const ScratchDir &dir, bool gz, const std::string &img,
                      const std::string &lab) {
  std::string ext = gz ? ".gz" : "";
  auto put = gz ? writeGzip : writeBytes;
  put(dir.path("s-images-idx3-ubyte" + ext), img);
  put(dir.path("s-labels-idx1-ubyte" + ext), lab);
  return dir.path("s");
}

std::vector<int64_t> iota(int64_t begin, int64_t end) {
  std::vector<int64_t> v(static_cast<size_t>(end - begin));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

/// `part` holds rows [begin, end) of `whole`, and says so.
void expectRows(const Dataset &whole, const Dataset &part, int64_t begin,
                int64_t end) {
  Dataset want = selectRows(whole, iota(begin, end));
  EXPECT_EQ(part.x.shape, want.x.shape);
  EXPECT_EQ(part.y.shape, want.y.shape);
  EXPECT_EQ(part.x.data, want.x.data);
  EXPECT_EQ(part.y.data, want.y.data);
  EXPECT_EQ(part.firstRow, begin);
  EXPECT_EQ(part.fileRows, whole.size());
  EXPECT_EQ(part.source, whole.source);
}

} // namespace

TEST(RowRange, EveryIdxRangeIsSelectRowsOfTheWholeFile) {
  for (bool gz : {false, true}) {
    ScratchDir dir;
    std::string prefix = writePair(dir, gz, imagesFile(), labelsFile());
    Dataset whole = loadIdx(prefix);
    ASSERT_EQ(whole.size(), kRows);
    EXPECT_EQ(whole.fileRows, kRows);
    EXPECT_EQ(idxRows(prefix), kRows);
    for (int64_t b = 0; b <= kRows; ++b)
      for (int64_t e = b; e <= kRows; ++e) {
        SCOPED_TRACE((gz ? "gz [" : "plain [") + std::to_string(b) + ", " +
                     std::to_string(e) + ")");
        expectRows(whole, loadIdx(prefix, {b, e}), b, e);
      }
    expectRows(whole, loadIdx(prefix, {3, -1}), 3, kRows);
  }
}

TEST(RowRange, TinyFashionShard) {
  std::string prefix = std::string(NNC_SOURCE_DIR) + "/tests/data/fashion-tiny";
  Dataset whole = loadIdx(prefix);
  EXPECT_EQ(idxRows(prefix), 256);
  expectRows(whole, loadIdx(prefix, {128, 256}), 128, 256);
  expectRows(whole, loadIdx(prefix, {0, 86}), 0, 86);
}

TEST(RowRange, IdxRangesPastTheEnd) {
  for (bool gz : {false, true}) {
    ScratchDir dir;
    std::string prefix = writePair(dir, gz, imagesFile(), labelsFile());
    std::string file = dir.path(gz ? "s-images-idx3-ubyte.gz"
                                   : "s-images-idx3-ubyte");
    std::string at = gz ? " (byte offset 4 of the decompressed data)"
                        : " (byte offset 4)";
    EXPECT_USER_ERROR(loadIdx(prefix, {3, 7}),
                      file + ": error: rows [3, 7) asked for, but the file "
                             "holds 5 samples" + at);
    EXPECT_USER_ERROR(loadIdx(prefix, {6, -1}),
                      file + ": error: rows [6, end) asked for, but the file "
                             "holds 5 samples" + at);
    EXPECT_USER_ERROR(loadIdx(prefix, {4, 2}),
                      "rows [4, 2) asked for: the range ends before it begins");
    EXPECT_USER_ERROR(loadIdx(prefix, {-1, 2}),
                      "rows [-1, 2) asked for: rows are counted from 0");
  }
}

TEST(RowRange, IdxCountsMustAgreeForTheRowCountToo) {
  ScratchDir dir;
  std::string prefix =
      writePair(dir, false, imagesFile(), idxBytes(0x08, {2}, u8s({1, 2})));
  EXPECT_USER_ERROR(idxRows(prefix), "2 labels, but '" +
                                         dir.path("s-images-idx3-ubyte") +
                                         "' holds 5 images");
  EXPECT_USER_ERROR(loadIdx(prefix, {0, 1}), "2 labels, but");
}

TEST(RowRange, IdxTruncationIsFoundInsideAndOutsideTheRange) {
  // Cut inside row 3 (0-based): 2 of its 6 bytes are there.
  std::string cut = imagesFile().substr(0, kHeader + 3 * kRowBytes + 2);
  for (bool gz : {false, true}) {
    ScratchDir dir;
    std::string prefix = writePair(dir, gz, cut, labelsFile());
    std::string want = "truncated IDX file: the header announces 30 values "
                       "(30 bytes of data) but the data ends after 20 bytes "
                       "(byte offset 36";
    // Before the range, in it, after it, and the whole file: one message.
    for (RowRange r : {RowRange{4, 5}, RowRange{3, 4}, RowRange{0, 2},
                       RowRange{0, 0}, RowRange{}}) {
      SCOPED_TRACE("rows [" + std::to_string(r.begin) + ", " +
                   std::to_string(r.end) + ")");
      EXPECT_USER_ERROR(loadIdx(prefix, r), want);
    }
  }
}

TEST(RowRange, IdxTrailingDataWhateverTheRange) {
  for (bool gz : {false, true}) {
    ScratchDir dir;
    std::string prefix = writePair(dir, gz, imagesFile() + "xy", labelsFile());
    EXPECT_USER_ERROR(loadIdx(prefix, {0, 1}),
                      "trailing data after the 30 values the IDX header "
                      "announces (byte offset 46");
  }
}

TEST(RowRange, IdxValuesAreCheckedInTheRangeWithFileSampleNumbers) {
  ScratchDir dir;
  // One float per sample, NaN in sample 4 (1-based); labels 0..4, label 9
  // where a class id would be out of range.
  std::vector<float> v = {1, 2, 3, std::nanf(""), 5};
  std::string prefix =
      writePair(dir, false, idxBytes(0x0D, {kRows, 1}, f32s(v)),
                idxBytes(0x08, {kRows}, u8s({0, 1, 9, 3, 4})));
  Dataset head = loadIdx(prefix, {0, 3}); // the NaN is not in range
  EXPECT_EQ(head.x.data, (std::vector<float>{1, 2, 3}));
  EXPECT_USER_ERROR(loadIdx(prefix, {2, 5}),
                    "non-finite value nan at sample 4 (nan and inf are not "
                    "valid data) (byte offset 24)");
  Dataset mid = loadIdx(prefix, {1, 3});
  EXPECT_EQ(labelErrorPrefix(mid, 1), dir.path("s-labels-idx1-ubyte") +
                                          ": error: label 9 of sample 3");
}

namespace {

/// Bytes this process has read so far (Linux /proc/self/io "rchar"), -1
/// where that is not available.
int64_t bytesRead() {
  std::ifstream in("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (in >> key >> value)
    if (key == "rchar:")
      return value;
  return -1;
}

} // namespace

TEST(RowRange, PlainIdxSeeksPastTheRowsOutsideTheRange) {
  if (bytesRead() < 0)
    GTEST_SKIP() << "/proc/self/io is not readable here";
  // 4000 samples of 1000 bytes: 4 MB of data, of which one row is wanted.
  ScratchDir dir;
  std::string pixels(4000 * 1000, '\x07');
  std::string prefix =
      writePair(dir, false, idxBytes(0x08, {4000, 1000}, pixels),
                idxBytes(0x08, {4000}, std::string(4000, '\x01')));
  int64_t before = bytesRead();
  Dataset last = loadIdx(prefix, {3999, 4000});
  int64_t ranged = bytesRead() - before;
  EXPECT_EQ(last.x.shape, (std::vector<int64_t>{1, 1000}));
  before = bytesRead();
  EXPECT_EQ(loadIdx(prefix).size(), 4000);
  int64_t whole = bytesRead() - before;
  EXPECT_GE(whole, 4000 * 1000);
  // zlib reads plain files in blocks of up to 256 KB.
  EXPECT_LT(ranged, 1000 * 1000) << "whole file: " << whole << " bytes";
}

TEST(RowRange, ReadIdxOfOneFile) {
  ScratchDir dir;
  writeGzip(dir.path("l.gz"), labelsFile());
  IdxArray a = readIdx(dir.path("l.gz"), {1, 4});
  EXPECT_EQ(a.values.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.values.data, (std::vector<float>{1, 4, 1}));
}

namespace {

/// A blank line, a quoted field, CRLF: data rows 0..3 on lines 2, 4, 5, 6.
const char *kCsv = "a,b,y\n1,2,0\n\n3,\"4\",1\r\n5,6,0\n7,8,1\n";

} // namespace

TEST(RowRange, EveryCsvRangeIsSelectRowsWithTheFilesLines) {
  Dataset whole = parseCsvDataset("d.csv", kCsv, CsvColumns{});
  ASSERT_EQ(whole.size(), 4);
  for (int64_t b = 0; b <= 4; ++b)
    for (int64_t e = b; e <= 4; ++e) {
      SCOPED_TRACE("[" + std::to_string(b) + ", " + std::to_string(e) + ")");
      Dataset part = parseCsvDataset("d.csv", kCsv, CsvColumns{}, {b, e});
      expectRows(whole, part, b, e);
      ASSERT_EQ(part.labelOrigins.size(), static_cast<size_t>(e - b));
      for (int64_t r = b; r < e; ++r) {
        const LabelOrigin &got = part.labelOrigins[r - b];
        const LabelOrigin &want = whole.labelOrigins[r];
        EXPECT_EQ(got.line, want.line);
        EXPECT_EQ(got.col, want.col);
        EXPECT_EQ(got.text, want.text);
      }
    }
  Dataset last = parseCsvDataset("d.csv", kCsv, CsvColumns{}, {3, 4});
  EXPECT_EQ(labelErrorPrefix(last, 0), "d.csv:6:5: error: label '1' on line 6");
}

TEST(RowRange, CsvErrorsKeepTheFilesLineNumbers) {
  // Line 4 holds data row 2 (0-based), whose 'x' is not a number.
  std::string text = "a,b,y\n1,2,0\n3,4,1\n5,x,0\n7,8,1\n";
  auto load = [&](RowRange r) {
    return parseCsvDataset("d.csv", text, CsvColumns{}, r);
  };
  EXPECT_EQ(load({0, 2}).size(), 2); // numbers are converted in range only
  EXPECT_EQ(load({3, 4}).x.data, (std::vector<float>{7, 8}));
  EXPECT_USER_ERROR(load({1, 3}), "d.csv:4:3: error: not a number 'x'");
  // The records are scanned everywhere: a short row is an error in any
  // range, since it decides where the rows are.
  std::string shortRow = "a,b,y\n1,2,0\n3,4\n5,6,0\n";
  EXPECT_USER_ERROR(parseCsvDataset("d.csv", shortRow, CsvColumns{}, {2, 3}),
                    "d.csv:3:4: error: expected 3 fields, got 2");
  EXPECT_USER_ERROR(load({3, 9}), "d.csv: error: rows [3, 9) asked for, but "
                                  "the file holds 4 samples");
  EXPECT_USER_ERROR(load({3, 1}), "d.csv: error: rows [3, 1) asked for: the "
                                  "range ends before it begins");
}

TEST(RowRange, CsvFileRowsAndRange) {
  ScratchDir dir;
  std::string p = dir.path("d.csv");
  // A quoted line break inside a header name, blank lines, a bad number:
  // counting converts nothing.
  writeBytes(p, "a,\"b\nc\",y\n1,2,0\n\n\n3,oops,1\n5,6,0\n");
  EXPECT_EQ(csvRows(p, CsvColumns{}), 3);
  Dataset last = loadCsv(p, CsvColumns{}, {2, 3});
  EXPECT_EQ(last.x.data, (std::vector<float>{5, 6}));
  EXPECT_EQ(last.labelOrigins.at(0).line, 7);
  EXPECT_USER_ERROR(loadCsv(p, CsvColumns{}), p + ":6:3: error: not a number");
}
