//===- SourceLine.h - One line of the .nn text -----------------*- C++ -*-===//
#pragma once

#include <sstream>
#include <string>

namespace nn {

/// Line `line` (1-based) of `text` without its leading and trailing blanks;
/// "" when there is no such line.
inline std::string sourceLine(const std::string &text, int line) {
  std::istringstream is(text);
  std::string s;
  for (int i = 1; std::getline(is, s); ++i)
    if (i == line) {
      size_t b = s.find_first_not_of(" \t");
      size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? "" : s.substr(b, e - b + 1);
    }
  return "";
}

} // namespace nn
