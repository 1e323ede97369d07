//===- Csv.cpp - CSV files with a header row ------------------------------===//
///
/// \file
/// A hand-written state machine over the whole file in memory (the file size
/// bounds every allocation). Numbers go through std::from_chars, which does
/// not depend on the locale.
///
/// A row range [begin, end) of the data rows: a CSV row can only be found
/// by reading every record before it (quoted fields may hold line breaks),
/// so the whole file is read and every record scanned, its fields counted,
/// but only the rows in range are converted to numbers and kept, with their
/// labels' origins. Line numbers in messages are the file's.
///
//===----------------------------------------------------------------------===//
#include "runtime/Csv.h"

#include "ir/Diagnostics.h"
#include "ir/Support.h"

#include <algorithm>
#include <cctype>
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

/// Length of the UTF-8 sequence starting at s[i], or 0 if it is not valid.
static size_t utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
  if (len == 0 || i + len > s.size())
    return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2)
      return 0;
  return len;
}

std::string printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = utf8Length(s, i);
    if (len > 1 || (len == 1 && c >= 0x20 && c != 0x7F)) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    char hex[8];
    std::snprintf(hex, sizeof(hex), "\\x%02x", c);
    out += hex;
    ++i;
  }
  return out;
}

CsvReader::CsvReader(std::string name, std::string_view text)
    : name(std::move(name)), text(text) {
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF")
    fail(1, 1,
         "the file is UTF-16 text (it starts with a UTF-16 byte order "
         "mark); save it as UTF-8");
  if (this->text.substr(0, 3) == "\xEF\xBB\xBF")
    pos = lineStart = 3;
  size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    int64_t l = 1 + std::count(text.begin(), text.begin() + nul, '\n');
    size_t start = text.find_last_of('\n', nul);
    start = start == std::string_view::npos ? 0 : start + 1;
    fail(l, static_cast<int64_t>(nul - start) + 1,
         "NUL byte in a text file (is it UTF-16 or binary? CSV files must be "
         "UTF-8 text)");
  }
}

void CsvReader::fail(int64_t l, int64_t c, const std::string &msg) {
  throw UserError(name + ":" + std::to_string(l) + ":" + std::to_string(c) +
                  ": error: " + msg + excerpt(l, c));
}

std::string CsvReader::excerpt(int64_t l, int64_t c) const {
  // Find line `l` the way the reader counts lines (CR, LF or CRLF).
  size_t start = 0;
  for (int64_t k = 1; k < l && start < text.size(); ++k) {
    size_t e = text.find_first_of("\r\n", start);
    if (e == std::string_view::npos)
      return "";
    start =
        e +
        (text[e] == '\r' && e + 1 < text.size() && text[e + 1] == '\n' ? 2 : 1);
  }
  size_t end = text.find_first_of("\r\n", start);
  std::string_view line =
      text.substr(start, end == std::string_view::npos ? end : end - start);
  if (c < 1 || static_cast<size_t>(c) > line.size() + 1)
    return "";
  // At most kExcerpt bytes around the column, so the caret stays inside.
  const size_t kExcerpt = 200;
  size_t at = static_cast<size_t>(c) - 1, from = 0;
  if (line.size() > kExcerpt && at > kExcerpt / 2)
    from = std::min(at - kExcerpt / 2, line.size() - kExcerpt);
  std::string shown(line.substr(from, kExcerpt));
  for (char &ch : shown)
    if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t')
      ch = '?';
  std::string pad = from > 0 ? "   " : "";
  for (size_t i = from; i < at; ++i)
    pad += line[i] == '\t' ? '\t' : ' ';
  return "\n  " + std::string(from > 0 ? "..." : "") + shown +
         (from + kExcerpt < line.size() ? "..." : "") + "\n  " + pad + "^";
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
        std::string shown = printable(text.substr(pos, 1));
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
  std::string shown = printable(s.substr(0, 40));
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

namespace {

std::string lower(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// "no column named 'y'" with the columns and a near-miss, compared
/// case-insensitively first.
[[noreturn]] void noSuchColumn(const std::string &name, const std::string &want,
                               const std::vector<std::string> &names) {
  std::string msg = name + ":1:1: error: no column named '" + printable(want) +
                    "' (the columns are ";
  std::string guess;
  for (size_t i = 0; i < names.size(); ++i) {
    msg += (i ? ", '" : "'") + printable(names[i]) + "'";
    if (guess.empty() && lower(names[i]) == lower(want))
      guess = names[i];
  }
  msg += ")";
  if (guess.empty())
    guess = closestMatch(want, names);
  if (!guess.empty())
    msg += "\n" + name + ":1:1: help: did you mean '" + printable(guess) + "'?";
  throw UserError(msg);
}

/// The index of column `want` in `names`; throws when it is missing or
/// appears more than once.
size_t columnIndex(const std::string &name, const std::string &want,
                   const std::vector<std::string> &names) {
  size_t found = names.size(), count = 0;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == want) {
      found = count == 0 ? i : found;
      ++count;
    }
  if (count == 0)
    noSuchColumn(name, want, names);
  if (count > 1)
    throw UserError(name + ":1:1: error: the label column '" + printable(want) +
                    "' appears " + std::to_string(count) +
                    " times in the header");
  return found;
}

/// The column names of the header row.
std::vector<std::string> headerNames(const std::string &name,
                                     CsvReader &reader) {
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
  return names;
}

/// The label columns' indices, in the order named; empty for a
/// features-only file.
std::vector<size_t> labelColumns(const std::string &name,
                                 const std::vector<std::string> &names,
                                 const CsvColumns &columns) {
  size_t ncols = names.size();
  if (columns.featuresOnly >= 0 &&
      static_cast<size_t>(columns.featuresOnly) == ncols) {
    bool named = !columns.labels.empty();
    for (const std::string &l : columns.labels)
      named = named && std::find(names.begin(), names.end(), l) != names.end();
    if (!named)
      return {};
  }
  if (ncols < 2)
    throw UserError(name +
                    ":1:1: error: need at least two columns (features "
                    "and a label), found 1 ('" +
                    printable(names[0]) + "')");
  if (columns.labels.empty())
    return {ncols - 1};
  std::vector<size_t> out;
  for (const std::string &l : columns.labels) {
    size_t i = columnIndex(name, l, names);
    if (std::find(out.begin(), out.end(), i) != out.end())
      throw UserError(name + ":1:1: error: the label column '" + printable(l) +
                      "' is named twice");
    out.push_back(i);
  }
  if (out.size() == ncols)
    throw UserError(name + ":1:1: error: every column is a label: no "
                           "columns are left for the features");
  return out;
}

} // namespace

Dataset parseCsvDataset(const std::string &name, std::string_view text,
                        const CsvColumns &columns, RowRange rows) {
  std::string why;
  RowRange asked = rows;
  if (!resolveRows(asked, std::numeric_limits<int64_t>::max(), why))
    throw UserError(name + ": error: " + why);
  auto inRange = [&](int64_t r) {
    return r >= rows.begin && (rows.end < 0 || r < rows.end);
  };
  CsvReader reader(name, text);
  std::vector<std::string> names = headerNames(name, reader);
  size_t ncols = names.size();
  std::vector<size_t> labels = labelColumns(name, names, columns);
  // Which label slot each column fills, or -1 for a feature.
  std::vector<int64_t> slot(ncols, -1);
  for (size_t k = 0; k < labels.size(); ++k)
    slot[labels[k]] = static_cast<int64_t>(k);

  std::vector<float> xs, ys;
  std::vector<LabelOrigin> origins;
  std::vector<CsvField> row;
  std::vector<float> rowLabels(labels.size());
  std::vector<LabelOrigin> rowOrigins(labels.size());
  int64_t n = 0, kept = 0; // rows scanned, rows in range
  while (reader.next(row)) {
    if (row.size() != ncols) {
      int64_t line = row[0].line;
      int64_t col = row.size() > ncols ? row[ncols].col : reader.endCol();
      if (row.size() < ncols)
        line = reader.endLine();
      throw UserError(name + ":" + std::to_string(line) + ":" +
                      std::to_string(col) + ": error: expected " +
                      std::to_string(ncols) + " fields, got " +
                      std::to_string(row.size()) + reader.excerpt(line, col));
    }
    if (!inRange(n++))
      continue;
    for (size_t i = 0; i < ncols; ++i) {
      float v = 0;
      try {
        v = parseCsvNumber(name, row[i]);
      } catch (const UserError &e) {
        throw UserError(e.what() + reader.excerpt(row[i].line, row[i].col));
      }
      if (slot[i] < 0) {
        xs.push_back(v);
        continue;
      }
      rowLabels[slot[i]] = v;
      rowOrigins[slot[i]] = {row[i].line, row[i].col,
                             std::string(trim(row[i].text))};
    }
    ys.insert(ys.end(), rowLabels.begin(), rowLabels.end());
    origins.insert(origins.end(), rowOrigins.begin(), rowOrigins.end());
    ++kept;
  }
  if (n == 0)
    throw UserError(name + ": error: no data rows after the header");
  if (!resolveRows(rows, n, why))
    throw UserError(name + ": error: " + why);
  Dataset ds;
  ds.source = name;
  ds.firstRow = rows.begin;
  ds.fileRows = n;
  int64_t nlabels = static_cast<int64_t>(labels.size());
  ds.x.shape = {kept, static_cast<int64_t>(ncols) - nlabels};
  ds.x.data = std::move(xs);
  ds.hasLabels = nlabels > 0;
  if (nlabels == 0)
    ys.assign(static_cast<size_t>(kept), 0.0f);
  ds.y.shape = nlabels > 1 ? std::vector<int64_t>{kept, nlabels}
                           : std::vector<int64_t>{kept};
  ds.y.data = std::move(ys);
  ds.labelOrigins = std::move(origins);
  return ds;
}

Dataset parseCsvDataset(const std::string &name, std::string_view text,
                        const std::string &labelColumn) {
  CsvColumns c;
  if (!labelColumn.empty())
    c.labels = {labelColumn};
  return parseCsvDataset(name, text, c);
}

Dataset loadCsv(const std::string &path, const std::string &labelColumn) {
  CsvColumns c;
  if (!labelColumn.empty())
    c.labels = {labelColumn};
  return loadCsv(path, c);
}

Dataset loadCsv(const std::string &path, const CsvColumns &columns,
                RowRange rows) {
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
  return parseCsvDataset(path, text, columns, rows);
}

int64_t csvRows(const std::string &path, const CsvColumns &columns) {
  return loadCsv(path, columns, RowRange{0, 0}).fileRows;
}

} // namespace nn
