//===- FormatTest.cpp - The shared text helpers of ir/Format.h ------------===//
///
/// The texts that the copies these helpers replaced printed, byte for byte.
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace nn;

TEST(Format, ShapeStr) {
  EXPECT_EQ(shapeStr(std::vector<int64_t>{2, 3}), "[2,3]");
  EXPECT_EQ(shapeStr(std::vector<int64_t>{}), "[]");
  EXPECT_EQ(shapeStr(std::vector<int64_t>{-1, 784}, ", "), "[-1, 784]");
}

TEST(Format, Percent) {
  EXPECT_EQ(percent(0.9712), "97.12%");
  EXPECT_EQ(percent(0), "0.00%");
  EXPECT_EQ(percent(1), "100.00%");
  EXPECT_EQ(percent(0.12345), "12.35%"); // 12.345000000000001 rounds up
  EXPECT_EQ(percent(NAN), "nan%");
}

TEST(Format, WithCommas) {
  EXPECT_EQ(withCommas(0), "0");
  EXPECT_EQ(withCommas(999), "999");
  EXPECT_EQ(withCommas(1000), "1,000");
  EXPECT_EQ(withCommas(1234567), "1,234,567");
  EXPECT_EQ(withCommas(-1234.4), "-1,234");
  EXPECT_EQ(withCommas(-123), "-123");
  EXPECT_EQ(withCommas(2.5), "2"); // to even, as printf's %.0f
}

TEST(Format, Padding) {
  EXPECT_EQ(padRight("ab", 4), "ab  ");
  EXPECT_EQ(padRight("abcde", 4), "abcde");
  EXPECT_EQ(padLeft("ab", 4), "  ab");
  EXPECT_EQ(padLeft("abcde", 4), "abcde");
  EXPECT_EQ(column("ab", 4), "ab  ");
  EXPECT_EQ(column("abc", 4), "abc ");
  EXPECT_EQ(column("abcd", 4), "abcd ");
  EXPECT_EQ(columnRight("ab", 4), "  ab");
  EXPECT_EQ(columnRight("abcd", 4), " abcd");
  // Bytes, not display width: "é" is two bytes.
  EXPECT_EQ(padRight("\xc3\xa9", 3), "\xc3\xa9 ");
}

TEST(Format, HtmlEscape) {
  EXPECT_EQ(htmlEscape("a<b> & \"c\" 'd'"),
            "a&lt;b&gt; &amp; &quot;c&quot; 'd'");
  EXPECT_EQ(htmlEscape(""), "");
}
