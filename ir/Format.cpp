//===- Format.cpp - Small text helpers ------------------------------------===//

#include "ir/Format.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nn {

std::string shapeStr(std::span<const int64_t> dims, std::string_view sep) {
  return fmt::format("[{}]", fmt::join(dims, sep));
}

std::string percent(double v) { return fmt::format("{:.2f}%", 100 * v); }

std::string withCommas(double v) {
  std::string s = fmt::format("{:.0f}", v), out;
  size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    size_t left = s.size() - i - 1;
    if (i >= start && left > 0 && left % 3 == 0)
      out += ',';
  }
  return out;
}

// Padding counts bytes, not display width as fmt's `{:<{}}` would, so that
// columns stay as they were for any name.
std::string padRight(std::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width)
    out.append(width - out.size(), ' ');
  return out;
}

std::string padLeft(std::string_view s, size_t width) {
  std::string out = s.size() < width ? std::string(width - s.size(), ' ') : "";
  return out.append(s);
}

std::string column(std::string_view s, size_t width) {
  return padRight(std::string(s) + " ", width);
}

std::string columnRight(std::string_view s, size_t width) {
  return padLeft(" " + std::string(s), width);
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s)
    switch (ch) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += ch;
    }
  return out;
}

} // namespace nn
