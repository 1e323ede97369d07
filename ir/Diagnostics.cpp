//===- Diagnostics.cpp - Clang-style reports ------------------------------===//

#include "ir/Diagnostics.h"

#include <algorithm>
#include <sstream>

namespace nn {

std::string SrcLoc::str() const {
  if (!valid())
    return "";
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

void DiagEngine::addSource(const std::string &file, std::string text) {
  sources[file] = std::move(text);
}

const std::string *DiagEngine::sourceText(const std::string &file) const {
  auto it = sources.find(file);
  return it == sources.end() ? nullptr : &it->second;
}

void DiagEngine::add(Severity s, const SrcLoc &loc, std::string message) {
  if (s == Severity::Error || s == Severity::Warning) {
    dropping = s == Severity::Error && numErrors >= maxErrors;
    if (s == Severity::Error)
      ++numErrors;
  }
  if (dropping)
    return;
  diags.push_back({s, loc, std::move(message)});
}

void DiagEngine::error(const SrcLoc &loc, std::string message) {
  add(Severity::Error, loc, std::move(message));
}
void DiagEngine::warning(const SrcLoc &loc, std::string message) {
  add(Severity::Warning, loc, std::move(message));
}
void DiagEngine::note(const SrcLoc &loc, std::string message) {
  add(Severity::Note, loc, std::move(message));
}
void DiagEngine::help(const SrcLoc &loc, std::string message) {
  add(Severity::Help, loc, std::move(message));
}

namespace {

const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  case Severity::Help:
    return "help";
  }
  return "?";
}

const char *severityColor(Severity s) {
  switch (s) {
  case Severity::Error:
    return "\033[1;31m";
  case Severity::Warning:
    return "\033[1;35m";
  case Severity::Note:
    return "\033[1;36m";
  case Severity::Help:
    return "\033[1;32m";
  }
  return "";
}

/// Line `line` (1-based) of `text`, without its newline.
std::string lineOf(const std::string &text, int line) {
  size_t start = 0;
  for (int l = 1; l < line; ++l) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos)
      return "";
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  std::string s = text.substr(start, end == std::string::npos ? end : end - start);
  if (!s.empty() && s.back() == '\r')
    s.pop_back();
  return s;
}

} // namespace

void DiagEngine::print(std::ostream &os, bool color) const {
  const char *bold = color ? "\033[1m" : "";
  const char *reset = color ? "\033[0m" : "";
  for (const Diagnostic &d : diags) {
    if (d.loc.valid())
      os << bold << d.loc.str() << ": " << reset;
    os << (color ? severityColor(d.severity) : "") << severityName(d.severity)
       << ": " << reset << bold << d.message << reset << "\n";
    if (!d.loc.valid() || d.severity == Severity::Help)
      continue;
    const std::string *text = sourceText(d.loc.file);
    if (!text)
      continue;
    std::string src = lineOf(*text, d.loc.line);
    // Tabs keep their width in the caret line so the caret stays aligned.
    std::string pad;
    for (int i = 0; i + 1 < d.loc.col && i < static_cast<int>(src.size()); ++i)
      pad += src[i] == '\t' ? '\t' : ' ';
    int len = std::max(1, d.loc.len);
    os << "  " << src << "\n  " << pad << (color ? "\033[1;32m" : "") << "^"
       << std::string(len - 1, '~') << reset << "\n";
  }
  if (numErrors > 0) {
    if (numErrors > maxErrors)
      os << "fatal: too many errors (" << numErrors << "), showing the first "
         << maxErrors << "\n";
    os << numErrors << (numErrors == 1 ? " error" : " errors")
       << " generated.\n";
  }
}

std::string DiagEngine::str() const {
  std::ostringstream os;
  print(os, false);
  return os.str();
}

std::string closestMatch(const std::string &word,
                         const std::vector<std::string> &candidates) {
  // Optimal string alignment distance: insertions, deletions, substitutions
  // and swaps of neighbours ("trian" -> "train") cost 1 each.
  auto distance = [](const std::string &a, const std::string &b) {
    std::vector<std::vector<size_t>> d(a.size() + 1,
                                       std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
      d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
      d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
      for (size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                            d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  std::string best;
  size_t bestDist = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string &c : candidates) {
    size_t d = distance(word, c);
    if (d < bestDist && c != word) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

} // namespace nn
