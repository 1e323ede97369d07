//===- LoaderReliabilityTest.cpp - Loader errors of issue 12 --------------===//
///
/// \file
/// Format detection by content, label errors that name the labels file and
/// the 1-based sample or line with the value as written, case-insensitive
/// column suggestions, features-only and multi-column CSV labels, UTF-16
/// and CR-only files, and non-finite IDX values.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Csv.h"
#include "runtime/Dataset.h"
#include "runtime/Idx.h"

#include <bit>
#include <cstring>

using namespace nn;
using namespace nn::testing;

namespace {

std::string f64s(const std::vector<double> &v) {
  std::string s;
  for (double x : v)
    s += beBytes(std::bit_cast<uint64_t>(x), 8);
  return s;
}

std::string csvError(const std::string &text, const CsvColumns &c) {
  return userErrorOf([&] { parseCsvDataset("d.csv", text, c); });
}

} // namespace

TEST(LoaderReliability, CsvIsDetectedByContent) {
  ScratchDir dir;
  writeBytes(dir.path("data.txt"), "a,b,y\n1,2,0\n");
  writeBytes(dir.path("DATA.CSV"), "a,b,y\n1,2,0\n");
  writeBytes(dir.path("img"), idxBytes(0x08, {1, 1}, "\x05"));
  writeGzip(dir.path("img.gz"), idxBytes(0x08, {1, 1}, "\x05"));
  EXPECT_TRUE(looksLikeCsv(dir.path("data.txt")));
  EXPECT_TRUE(looksLikeCsv(dir.path("DATA.CSV")));
  EXPECT_TRUE(looksLikeCsv(dir.path("missing.Csv")));
  EXPECT_FALSE(looksLikeCsv(dir.path("img")));
  EXPECT_FALSE(looksLikeCsv(dir.path("img.gz")));
  EXPECT_FALSE(looksLikeCsv(dir.path("train"))); // a prefix: no such file
  EXPECT_FALSE(looksLikeCsv(dir.dir));
}

TEST(LoaderReliability, IdxPrefixThatIsAFileSaysHowToName) {
  ScratchDir dir;
  writeBytes(dir.path("data.txt"), "a,b,y\n1,2,0\n");
  std::string e = userErrorOf([&] { loadIdx(dir.path("data.txt")); });
  EXPECT_NE(e.find("a file, not an IDX prefix"), std::string::npos) << e;
  EXPECT_NE(e.find("help: for CSV data"), std::string::npos) << e;
  EXPECT_EQ(e.find("tried"), std::string::npos) << e;
}

TEST(LoaderReliability, IdxLabelErrorsNameTheLabelsFileAndSample) {
  ScratchDir dir;
  writeBytes(dir.path("t-images-idx3-ubyte"),
             idxBytes(0x08, {3, 1, 1}, "\x01\x02\x03"));
  writeBytes(dir.path("t-labels-idx1-ubyte"),
             idxBytes(0x0C, {3},
                      beBytes(1, 4) + beBytes(2, 4) + beBytes(2000000000, 4)));
  Dataset ds = loadIdx(dir.path("t"));
  EXPECT_EQ(ds.labelSource, dir.path("t-labels-idx1-ubyte"));
  EXPECT_EQ(labelErrorPrefix(ds, 2),
            dir.path("t-labels-idx1-ubyte") +
                ": error: label 2000000000 of sample 3");
  // Label counts that disagree blame the labels file too.
  writeBytes(dir.path("u-images-idx3-ubyte"),
             idxBytes(0x08, {2, 1, 1}, "\x01\x02"));
  writeBytes(dir.path("u-labels-idx1-ubyte"), idxBytes(0x08, {1}, "\x01"));
  std::string e = userErrorOf([&] { loadIdx(dir.path("u")); });
  EXPECT_EQ(e.rfind(dir.path("u-labels-idx1-ubyte") + ": error:", 0), 0u) << e;
}

TEST(LoaderReliability, CsvLabelErrorsShowLineAndValueAsWritten) {
  Dataset ds = parseCsvDataset("d.csv", "a,y\n1,0\n2, 4294967297\n",
                               CsvColumns{{"y"}, -1});
  EXPECT_EQ(labelErrorPrefix(ds, 1),
            "d.csv:3:3: error: label '4294967297' on line 3");
  // Multi-value labels: the k-th value of a row.
  Dataset multi = parseCsvDataset("m.csv", "a,y0,y1\n1,2,3\n4,5,6\n",
                                  CsvColumns{{"y0", "y1"}, -1});
  EXPECT_EQ(labelErrorPrefix(multi, 3),
            "m.csv:3:5: error: label '6' on line 3");
  // Without origins (IDX, after a split): 1-based sample and value.
  multi.labelOrigins.clear();
  EXPECT_EQ(labelErrorPrefix(multi, 3),
            "m.csv: error: label 6 of value 2 of sample 2");
}

TEST(LoaderReliability, ColumnNamesCompareCaseInsensitivelyFirst) {
  std::string e = csvError("a,Y,b\n1,2,3\n", CsvColumns{{"y"}, -1});
  EXPECT_NE(e.find("help: did you mean 'Y'?"), std::string::npos) << e;
}

TEST(LoaderReliability, SeveralLabelColumns) {
  Dataset ds = parseCsvDataset("d.csv", "y1,a,y0,b,y2\n1,2,3,4,5\n6,7,8,9,10\n",
                               CsvColumns{{"y0", "y1", "y2"}, -1});
  EXPECT_EQ(ds.x.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ds.x.data, (std::vector<float>{2, 4, 7, 9}));
  EXPECT_EQ(ds.y.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ds.y.data, (std::vector<float>{3, 1, 5, 8, 6, 10}));
  EXPECT_NE(csvError("a,y\n1,2\n", CsvColumns{{"y", "y"}, -1})
                .find("'y' is named twice"),
            std::string::npos);
  EXPECT_NE(csvError("a,y\n1,2\n", CsvColumns{{"y", "a"}, -1})
                .find("every column is a label"),
            std::string::npos);
  EXPECT_NE(csvError("a,y\n1,2\n", CsvColumns{{"y", "z"}, -1})
                .find("no column named 'z'"),
            std::string::npos);
}

TEST(LoaderReliability, FeaturesOnlyForPrediction) {
  Dataset ds = parseCsvDataset("d.csv", "a,b\n1,2\n3,4\n", CsvColumns{{}, 2});
  EXPECT_FALSE(ds.hasLabels);
  EXPECT_EQ(ds.x.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ds.x.data, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(ds.y.shape, (std::vector<int64_t>{2}));
  // With the label column there, it is still the label.
  Dataset labelled =
      parseCsvDataset("d.csv", "a,y\n1,2\n", CsvColumns{{"y"}, 2});
  EXPECT_TRUE(labelled.hasLabels);
  EXPECT_EQ(labelled.x.shape, (std::vector<int64_t>{1, 1}));
  // A file with a label column: features plus label, as before.
  Dataset more = parseCsvDataset("d.csv", "a,b,y\n1,2,0\n", CsvColumns{{}, 2});
  EXPECT_TRUE(more.hasLabels);
  EXPECT_EQ(more.y.data, (std::vector<float>{0}));
}

TEST(LoaderReliability, Utf16AndNulBytesAreNamed) {
  std::string utf16le = "\xFF\xFE";
  for (char c : std::string("a,y\n1,2\n")) {
    utf16le += c;
    utf16le += '\0';
  }
  std::string e = csvError(utf16le, {});
  EXPECT_NE(e.find("d.csv:1:1: error: the file is UTF-16"), std::string::npos)
      << e;
  std::string noBom = utf16le.substr(2);
  e = csvError(noBom, {});
  EXPECT_NE(e.find("d.csv:1:2: error: NUL byte"), std::string::npos) << e;
  // Bytes that are not UTF-8 or are control characters are escaped.
  e = csvError("a,y\n1,\x01\xFF\n", {});
  EXPECT_NE(e.find("not a number '\\x01\\xff'"), std::string::npos) << e;
}

TEST(LoaderReliability, CrOnlyLineEnds) {
  Dataset ds = parseCsvDataset("d.csv", "a,y\r1,0\r2,1\r", CsvColumns{});
  EXPECT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.y.data, (std::vector<float>{0, 1}));
  std::string e = csvError("a,y\r1,0\r2,x\r", {});
  EXPECT_NE(e.find("d.csv:3:3: error: not a number 'x'"), std::string::npos)
      << e;
}

TEST(LoaderReliability, IdxRejectsNonFiniteFloat32) {
  ScratchDir dir;
  float nan = std::numeric_limits<float>::quiet_NaN();
  writeBytes(dir.path("f"), idxBytes(0x0D, {2, 2}, f32s({1, 2, 3, nan})));
  std::string e = userErrorOf([&] { readIdx(dir.path("f")); });
  EXPECT_EQ(e, dir.path("f") +
                   ": error: non-finite value nan at value 2 of sample 2 (nan "
                   "and inf are not valid data) (byte offset 24)");
  writeBytes(
      dir.path("g"),
      idxBytes(0x0D, {1}, f32s({-std::numeric_limits<float>::infinity()})));
  e = userErrorOf([&] { readIdx(dir.path("g")); });
  EXPECT_NE(e.find("non-finite value -inf at sample 1"), std::string::npos)
      << e;
}

TEST(LoaderReliability, IdxRejectsFloat64OutsideFloat32) {
  ScratchDir dir;
  writeGzip(dir.path("d.gz"), idxBytes(0x0E, {3}, f64s({1, 1e300, 2})));
  std::string e = userErrorOf([&] { readIdx(dir.path("d.gz")); });
  EXPECT_NE(e.find("value 1e+300 out of range for float32 at sample 2"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("(byte offset 16 of the decompressed data)"),
            std::string::npos)
      << e;
  // The largest float32 still loads.
  writeBytes(dir.path("ok"),
             idxBytes(0x0E, {1}, f64s({std::numeric_limits<float>::max()})));
  EXPECT_EQ(readIdx(dir.path("ok")).values.data[0],
            std::numeric_limits<float>::max());
}

TEST(LoaderReliability, ExcerptKeepsTheCaretUnderTheColumn) {
  // A bad field at column 1,035 of a long line: the excerpt is cut around it.
  std::string line(1034, '1');
  for (size_t i = 1; i < line.size(); i += 2)
    line[i] = ',';
  std::string header, row = line + "x";
  for (size_t c = 0; c < 518; ++c)
    header += (c ? ",c" : "c") + std::to_string(c);
  std::string e = csvError(header + "\n" + row + "\n", {});
  ASSERT_NE(e.find("d.csv:2:1035: error: not a number 'x'"), std::string::npos)
      << e;
  size_t first = e.find("\n  ");
  ASSERT_NE(first, std::string::npos) << e;
  size_t second = e.find("\n  ", first + 1);
  ASSERT_NE(second, std::string::npos) << e;
  std::string shown = e.substr(first + 3, second - first - 3);
  std::string caret = e.substr(second + 3);
  EXPECT_LE(shown.size(), 206u) << shown;
  EXPECT_EQ(shown.substr(0, 3), "...");
  ASSERT_EQ(caret.back(), '^');
  ASSERT_LT(caret.size() - 1, shown.size());
  EXPECT_EQ(shown[caret.size() - 1], 'x') << shown << "\n" << caret;
  // A short line is shown whole, the caret under the field.
  e = csvError("a,b\n1,zz\n", {});
  EXPECT_NE(e.find("\n  1,zz\n    ^"), std::string::npos) << e;
}
