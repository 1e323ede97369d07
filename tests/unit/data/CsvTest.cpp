//===- CsvTest.cpp - CSV loader tests -------------------------------------===//
///
/// \file
/// Good files (quotes, CRLF, BOM, label column anywhere) and every error,
/// each with its row:col.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/Csv.h"
#include "runtime/Dataset.h"

using namespace nn;
using namespace nn::testing;

namespace {

Dataset parse(const std::string &text, const std::string &label = "") {
  return parseCsvDataset("d.csv", text, label);
}

/// The message without its source excerpt (the lines starting with two
/// blanks: LoaderReliabilityTest checks those).
std::string errorOf(const std::string &text, const std::string &label = "") {
  std::string msg = userErrorOf([&] { parse(text, label); }), out;
  for (size_t at = 0; at < msg.size();) {
    size_t nl = msg.find('\n', at);
    std::string line = msg.substr(at, nl == std::string::npos ? nl : nl - at);
    if (line.rfind("  ", 0) != 0)
      out += (out.empty() ? "" : "\n") + line;
    at = nl == std::string::npos ? msg.size() : nl + 1;
  }
  return out;
}

} // namespace

TEST(Csv, LastColumnIsTheDefaultLabel) {
  Dataset ds = parse("hours,days,keep\n15,22,1\n8,6,0\n60,7.5,1\n");
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{3, 2}));
  ASSERT_EQ(ds.y.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(ds.x.data, (std::vector<float>{15, 22, 8, 6, 60, 7.5f}));
  EXPECT_EQ(ds.y.data, (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(ds.source, "d.csv");
}

TEST(Csv, LabelColumnByName) {
  Dataset ds = parse("y,a,b\n1,2,3\n4,5,6\n", "y");
  EXPECT_EQ(ds.x.data, (std::vector<float>{2, 3, 5, 6}));
  EXPECT_EQ(ds.y.data, (std::vector<float>{1, 4}));
  Dataset mid = parse("a,y,b\n1,2,3\n", "y");
  EXPECT_EQ(mid.x.data, (std::vector<float>{1, 3}));
  EXPECT_EQ(mid.y.data, (std::vector<float>{2}));
}

TEST(Csv, QuotesCrlfBomBlanksAndNumberForms) {
  std::string text = "\xEF\xBB\xBF\"a\",\"b, with comma\",\" y \"\r\n"
                     "\"1.5\", 2 ,\"-3\"\r\n"
                     "+4,5e-1,-6E2\r\n"
                     "\r\n"
                     "1e-320,0,0\r\n"
                     "\r\n";
  Dataset ds = parse(text, "y");
  ASSERT_EQ(ds.x.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(ds.x.data, (std::vector<float>{1.5f, 2, 4, 0.5f, 0, 0}));
  EXPECT_EQ(ds.y.data, (std::vector<float>{-3, -600, 0}));
}

TEST(Csv, QuotedFieldsWithEscapesAndNewlines) {
  std::vector<CsvField> f;
  CsvReader r("q.csv", "\"say \"\"hi\"\"\",\"two\nlines\",x\nnext,\"\"\n");
  ASSERT_TRUE(r.next(f));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].text, "say \"hi\"");
  EXPECT_TRUE(f[0].quoted);
  EXPECT_EQ(f[1].text, "two\nlines");
  EXPECT_EQ(f[2].text, "x");
  EXPECT_EQ(f[2].line, 2);
  EXPECT_EQ(f[2].col, 8);
  ASSERT_TRUE(r.next(f));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].line, 3);
  EXPECT_EQ(f[1].text, "");
  EXPECT_FALSE(r.next(f));
}

TEST(Csv, ExampleFilesLoad) {
  Dataset churn =
      loadCsv(std::string(NNC_SOURCE_DIR) + "/examples/data/churn.csv", "keep");
  EXPECT_EQ(churn.x.shape[1], 2);
  EXPECT_GT(churn.size(), 0);
  Dataset xorData =
      loadCsv(std::string(NNC_SOURCE_DIR) + "/examples/data/xor.csv", "y");
  EXPECT_EQ(xorData.x.shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(xorData.y.data, (std::vector<float>{0, 1, 1, 0}));
}

TEST(Csv, FileErrors) {
  ScratchDir dir;
  EXPECT_USER_ERROR(loadCsv(dir.path("none.csv"), ""),
                    dir.path("none.csv") +
                        ": error: cannot open file: No such file or directory");
  EXPECT_USER_ERROR(loadCsv(dir.dir, ""), "is a directory, not a CSV file");
  writeBytes(dir.path("empty.csv"), "");
  EXPECT_USER_ERROR(loadCsv(dir.path("empty.csv"), ""),
                    dir.path("empty.csv") +
                        ": error: empty file (a header row with column names "
                        "is required)");
  writeBytes(dir.path("ok.csv"), "a,b\n1,2\n");
  EXPECT_EQ(loadCsv(dir.path("ok.csv"), "").y.data, (std::vector<float>{2}));
}

TEST(Csv, HeaderErrors) {
  EXPECT_EQ(errorOf("\n\r\n\n"), "d.csv: error: empty file (a header row with "
                                 "column names is required)");
  EXPECT_EQ(errorOf("1,2,3\n4,5,6\n"),
            "d.csv:1:1: error: no header row: the first row holds numbers, "
            "not column names");
  EXPECT_EQ(errorOf("a,b\n"), "d.csv: error: no data rows after the header");
  EXPECT_EQ(errorOf("a\n1\n"), "d.csv:1:1: error: need at least two columns "
                               "(features and a label), found 1 ('a')");
  EXPECT_EQ(errorOf("a,,c\n1,2,3\n"), "d.csv:1:3: error: empty column name");
  EXPECT_EQ(errorOf("y,a,y\n1,2,3\n", "y"),
            "d.csv:1:1: error: the label column 'y' appears 2 times in the "
            "header");
}

TEST(Csv, UnknownLabelColumn) {
  EXPECT_EQ(errorOf("hours,days,keep\n1,2,3\n", "kep"),
            "d.csv:1:1: error: no column named 'kep' (the columns are "
            "'hours', 'days', 'keep')\n"
            "d.csv:1:1: help: did you mean 'keep'?");
  EXPECT_EQ(errorOf("hours,days,keep\n1,2,3\n", "label"),
            "d.csv:1:1: error: no column named 'label' (the columns are "
            "'hours', 'days', 'keep')");
}

TEST(Csv, RaggedRows) {
  EXPECT_EQ(errorOf("a,b,c\n1,2,3\n4,5\n"),
            "d.csv:3:4: error: expected 3 fields, got 2");
  EXPECT_EQ(errorOf("a,b,c\n1,2,3\n4,5,6,77\n"),
            "d.csv:3:7: error: expected 3 fields, got 4");
  EXPECT_EQ(errorOf("a,b\r\n1,2\r\n\"x\ny\"\r\n"),
            "d.csv:4:3: error: expected 2 fields, got 1");
}

TEST(Csv, BadNumbers) {
  EXPECT_EQ(errorOf("a,b\n1,2\n3,x1\n"), "d.csv:3:3: error: not a number 'x1'");
  EXPECT_EQ(errorOf("a,b\n1,2\n3,1.2.3\n"),
            "d.csv:3:3: error: not a number '1.2.3'");
  EXPECT_EQ(errorOf("a,b\n1,0x10\n"), "d.csv:2:3: error: not a number '0x10'");
  EXPECT_EQ(errorOf("a,b\n1,\n"),
            "d.csv:2:3: error: empty field (expected a number)");
  EXPECT_EQ(errorOf("a,b\n1,\"  \"\n"),
            "d.csv:2:3: error: empty field (expected a number)");
  EXPECT_EQ(errorOf("a,b\n1,nan\n"),
            "d.csv:2:3: error: non-finite value 'nan' is not allowed (nan and "
            "inf are not valid data)");
  EXPECT_EQ(errorOf("a,b\n-inf,1\n"),
            "d.csv:2:1: error: non-finite value '-inf' is not allowed (nan "
            "and inf are not valid data)");
  EXPECT_EQ(errorOf("a,b\n1,Infinity\n"),
            "d.csv:2:3: error: non-finite value 'Infinity' is not allowed "
            "(nan and inf are not valid data)");
  EXPECT_EQ(errorOf("a,b\n1,1e400\n"),
            "d.csv:2:3: error: number out of range for float32 '1e400'");
  EXPECT_EQ(errorOf("a,b\n1,-1e39\n"),
            "d.csv:2:3: error: number out of range for float32 '-1e39'");
  EXPECT_EQ(errorOf("a,b\n1,++2\n"), "d.csv:2:3: error: not a number '++2'");
}

TEST(Csv, QuoteErrors) {
  EXPECT_EQ(errorOf("a,b\n1,\"2\n"),
            "d.csv:2:3: error: unterminated quoted field");
  EXPECT_EQ(errorOf("a,b\n1,\"2\"x\n"),
            "d.csv:2:6: error: unexpected 'x' after a closing quote (expected "
            "',' or the end of the line)");
}

TEST(Csv, GarbageNeverCrashes) {
  uint64_t s = 99;
  const char alphabet[] = "ab,\"\n\r 0123456789.e-+xn\t";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string t;
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    size_t len = (s >> 40) % 60;
    for (size_t i = 0; i < len; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      t += alphabet[(s >> 33) % (sizeof(alphabet) - 1)];
    }
    try {
      Dataset ds = parse(t);
      EXPECT_EQ(ds.x.numel(), static_cast<int64_t>(ds.x.data.size()));
      EXPECT_EQ(ds.y.numel(), ds.size());
    } catch (const UserError &e) {
      EXPECT_EQ(std::string(e.what()).rfind("d.csv", 0), 0u) << e.what();
    }
  }
}
