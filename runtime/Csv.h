//===- Csv.h - CSV files with a header row ---------------------*- C++ -*-===//
///
/// \file
/// An RFC 4180 style record reader (commas, optional double quotes with ""
/// escapes, quoted line breaks, CRLF or LF) that remembers where each field
/// starts, so that errors point at "path:ROW:COL". The data set loader built
/// on it, loadCsv, is declared in Dataset.h.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nn {

/// One field of a record, unquoted, and where it starts (1-based; the column
/// counts bytes).
struct CsvField {
  std::string text;
  int64_t line = 0;
  int64_t col = 0;
  bool quoted = false;
};

/// Reads records from `text` one at a time. Blank lines are skipped. Throws
/// UserError on an unterminated quote or text after a closing quote.
class CsvReader {
public:
  /// `name` is used in messages; `text` must outlive the reader. A UTF-8 byte
  /// order mark at the start is skipped.
  CsvReader(std::string name, std::string_view text);

  /// Reads the next record into `fields`; false at the end of the text.
  bool next(std::vector<CsvField> &fields);

  /// Where the last record read ended (the line break, or the end of text).
  int64_t endLine() const { return lastEndLine; }
  int64_t endCol() const { return lastEndCol; }

  /// "\n  <line l>\n  <caret under column c>" for a message: at most 200
  /// bytes of the line around the column ("..." where cut), control bytes
  /// as '?'; "" when there is no such line.
  std::string excerpt(int64_t l, int64_t c) const;

private:
  bool atLineEnd() const;
  void skipLineEnd();
  [[noreturn]] void fail(int64_t line, int64_t col, const std::string &msg);

  std::string name;
  std::string_view text;
  size_t pos = 0;
  int64_t line = 1;
  size_t lineStart = 0;
  int64_t lastEndLine = 0;
  int64_t lastEndCol = 0;
};

/// Parses CSV text into a data set (see loadCsv), the data rows `rows` of
/// it; `name` is used in messages. The entry point for fuzzing.
Dataset parseCsvDataset(const std::string &name, std::string_view text,
                        const CsvColumns &columns, RowRange rows = {});
Dataset parseCsvDataset(const std::string &name, std::string_view text,
                        const std::string &labelColumn);

/// Parses one CSV number (surrounding blanks allowed, a leading '+' too).
/// Throws UserError "name:line:col: error: ..." for empty fields, text that
/// is not a number, "nan"/"inf", and values outside the float32 range.
float parseCsvNumber(const std::string &name, const CsvField &field);

/// `s` with control bytes and bytes that are not UTF-8 written as "\\xNN",
/// for messages that quote file contents.
std::string printable(std::string_view s);

} // namespace nn
