//===- Suggest.h - "did you mean" for the frontend -------------*- C++ -*-===//
///
/// \file
/// closestMatch (ir/Diagnostics.h) tuned for names in .nn files: no guesses
/// for one- and two-letter names (every such name is "close" to every other),
/// and swapped letters ("inptu" for "input") count as a likely typo.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"

#include <algorithm>
#include <string>
#include <vector>

namespace nn {

/// The candidate `word` is most likely a typo of, or "".
inline std::string suggest(const std::string &word,
                           const std::vector<std::string> &candidates) {
  if (word.size() < 3)
    return "";
  std::string best = closestMatch(word, candidates);
  if (!best.empty())
    return best;
  std::string sorted = word;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string &c : candidates) {
    std::string s = c;
    std::sort(s.begin(), s.end());
    if (s == sorted && c != word)
      return c;
  }
  return "";
}

} // namespace nn
