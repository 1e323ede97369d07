//===- Csv.cpp - CSV files with a header row ------------------------------===//
///
/// \file
/// A hand-written state machine over the whole file in memory (the file size
/// bounds every allocation). Numbers go through std::from_chars, which does
/// not depend on the locale.
///
//===----------------------------------------------------------------------===//
#include "runtime/Csv.h"

#include "ir/Diagnostics.h"
#include "ir/Support.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>

namespace nn {

CsvReader::CsvReader(std::string name, std::string_view text)
    : name(std::move(name)), text(text) {
  if (this->text.substr(0, 3) == "\xEF\xBB\xBF")
    pos = lineStart = 3;
}

void CsvReader::fail(int64_t l, int64_t c, const std::string &msg) {
  throw UserError(name + ":" + std::to_string(l) + ":" + std::to_string(c) +
                  ": error: " + msg);
}

bool CsvReader::atLineEnd() const {
  return pos < text.size() && (text[pos] == '\n' || text[pos] == '\r');
}

void CsvReader::skipLineEnd() {
  if (text[pos] == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n')
    ++pos;
  ++pos;
  ++line;
  lineStart = pos;
}

bool CsvReader::next(std::vector<CsvField> &fields) {
  fields.clear();
  while (atLineEnd())
    skipLineEnd();
  if (pos >= text.size())
    return false;
  for (;;) {
    CsvField f;
    f.line = line;
    f.col = static_cast<int64_t>(pos - lineStart) + 1;
    if (pos < text.size() && text[pos] == '"') {
      f.quoted = true;
      ++pos;
      for (;;) {
        if (pos >= text.size())
          fail(f.line, f.col, "unterminated quoted field");
        char c = text[pos];
        if (c == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            f.text += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        if (c == '\n' || c == '\r') {
          size_t before = pos;
          skipLineEnd();
          f.text.append(text.substr(before, pos - before));
          continue;
        }
        f.text += c;
        ++pos;
      }
      if (pos < text.size() && text[pos] != ',' && !atLineEnd()) {
        std::string shown(1, text[pos]);
        if (static_cast<unsigned char>(text[pos]) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x",
                        static_cast<unsigned char>(text[pos]));
          shown = hex;
        }
        fail(line, static_cast<int64_t>(pos - lineStart) + 1,
             "unexpected '" + shown +
                 "' after a closing quote (expected ',' "
                 "or the end of the line)");
      }
    } else {
      size_t start = pos;
      while (pos < text.size() && text[pos] != ',' && !atLineEnd())
        ++pos;
      f.text.assign(text.substr(start, pos - start));
    }
    fields.push_back(std::move(f));
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    lastEndLine = line;
    lastEndCol = static_cast<int64_t>(pos - lineStart) + 1;
    if (atLineEnd())
      skipLineEnd();
    return true;
  }
}

static std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

float parseCsvNumber(const std::string &name, const CsvField &field) {
  auto fail = [&](const std::string &msg) {
    throw UserError(name + ":" + std::to_string(field.line) + ":" +
                    std::to_string(field.col) + ": error: " + msg);
  };
  std::string_view s = trim(field.text);
  if (s.empty())
    fail("empty field (expected a number)");
  std::string shown(s.substr(0, 40));
  if (s.size() > 40)
    shown += "...";
  std::string_view digits = s;
  if (digits.front() == '+')
    digits.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   v, std::chars_format::general);
  if (ec == std::errc::invalid_argument || end != digits.data() + digits.size())
    fail("not a number '" + shown + "'");
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports overflow and underflow alike; tell them apart.
    std::string copy(digits);
    errno = 0;
    double w = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(w) || std::fabs(w) > 1.0)
      fail("number out of range for float32 '" + shown + "'");
    v = w;
  }
  if (std::isnan(v) || std::isinf(v))
    fail("non-finite value '" + shown +
         "' is not allowed (nan and inf are "
         "not valid data)");
  if (std::fabs(v) > double(std::numeric_limits<float>::max()))
    fail("number out of range for float32 '" + shown + "'");
  return static_cast<float>(v);
}

/// True when `f` parses as a finite number (used to spot a missing header).
static bool looksNumeric(const CsvField &f) {
  try {
    parseCsvNumber("", f);
    return true;
  } catch (const UserError &) {
    return false;
  }
}

Dataset parseCsvDataset(const std::string &name, std::string_view text,
                        const std::string &labelColumn) {
  CsvReader reader(name, text);
  std::vector<CsvField> header;
  if (!reader.next(header))
    throw UserError(name + ": error: empty file (a header row with column "
                           "names is required)");
  bool allNumeric = true;
  for (const CsvField &f : header)
    allNumeric = allNumeric && looksNumeric(f);
  if (allNumeric)
    throw UserError(name + ":1:1: error: no header row: the first row holds "
                           "numbers, not column names");
  std::vector<std::string> names;
  for (const CsvField &f : header) {
    std::string n(trim(f.text));
    if (n.empty())
      throw UserError(name + ":" + std::to_string(f.line) + ":" +
                      std::to_string(f.col) + ": error: empty column name");
    names.push_back(n);
  }
  size_t ncols = names.size();
  if (ncols < 2)
    throw UserError(name +
                    ":1:1: error: need at least two columns (features "
                    "and a label), found 1 ('" +
                    names[0] + "')");
  size_t label = ncols - 1;
  if (!labelColumn.empty()) {
    size_t found = ncols, count = 0;
    for (size_t i = 0; i < ncols; ++i)
      if (names[i] == labelColumn) {
        if (found == ncols)
          found = i;
        ++count;
      }
    if (count == 0) {
      std::string msg = name + ":1:1: error: no column named '" + labelColumn +
                        "' (the columns are ";
      for (size_t i = 0; i < ncols; ++i)
        msg += (i ? ", '" : "'") + names[i] + "'";
      msg += ")";
      std::string guess = closestMatch(labelColumn, names);
      if (!guess.empty())
        msg += "\n" + name + ":1:1: help: did you mean '" + guess + "'?";
      throw UserError(msg);
    }
    if (count > 1)
      throw UserError(name + ":1:1: error: the label column '" + labelColumn +
                      "' appears " + std::to_string(count) +
                      " times in the header");
    label = found;
  }

  std::vector<float> xs, ys;
  std::vector<CsvField> row;
  int64_t n = 0;
  while (reader.next(row)) {
    if (row.size() != ncols) {
      int64_t line = row[0].line;
      int64_t col = row.size() > ncols ? row[ncols].col : reader.endCol();
      if (row.size() < ncols)
        line = reader.endLine();
      throw UserError(name + ":" + std::to_string(line) + ":" +
                      std::to_string(col) + ": error: expected " +
                      std::to_string(ncols) + " fields, got " +
                      std::to_string(row.size()));
    }
    for (size_t i = 0; i < ncols; ++i) {
      float v = parseCsvNumber(name, row[i]);
      (i == label ? ys : xs).push_back(v);
    }
    ++n;
  }
  if (n == 0)
    throw UserError(name + ": error: no data rows after the header");
  Dataset ds;
  ds.source = name;
  ds.x.shape = {n, static_cast<int64_t>(ncols - 1)};
  ds.x.data = std::move(xs);
  ds.y.shape = {n};
  ds.y.data = std::move(ys);
  return ds;
}

Dataset loadCsv(const std::string &path, const std::string &labelColumn) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw UserError(path +
                    ": error: cannot open file: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw UserError(path + ": error: is a directory, not a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError(path +
                    ": error: cannot open file: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    throw UserError(path + ": error: cannot read file");
  std::string text = std::move(buf).str();
  return parseCsvDataset(path, text, labelColumn);
}

} // namespace nn
