//===- Verify.cpp - clang -verify for .nn files ---------------------------===//
///
/// \file
/// Algorithm: collect the `expected-error {{text}}` and
/// `expected-warning {{text}}` directives of the file's comments (with an
/// optional `@+N`, `@-N` or `@N` line), then match every reported error and
/// warning of that file against an unused directive of the same severity and
/// line whose text is a substring of the message. Leftovers on either side
/// are mismatches.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"

#include <cctype>
#include <sstream>

namespace nn {

namespace {

struct Expected {
  Severity severity;
  int line;
  std::string text;
  bool seen = false;
};

const char *kindName(Severity s) {
  return s == Severity::Error ? "error" : "warning";
}

/// Parses the directives on `line` (1-based number `lineNo`) into `out`;
/// false with a message in `report` for a malformed one.
bool parseDirectives(const std::string &file, const std::string &line,
                     int lineNo, std::vector<Expected> &out,
                     std::ostream &report) {
  size_t hash = line.find('#');
  if (hash == std::string::npos)
    return true;
  bool ok = true;
  size_t pos = hash;
  while ((pos = line.find("expected-", pos)) != std::string::npos) {
    size_t p = pos + 9;
    Severity sev;
    if (line.compare(p, 5, "error") == 0) {
      sev = Severity::Error;
      p += 5;
    } else if (line.compare(p, 7, "warning") == 0) {
      sev = Severity::Warning;
      p += 7;
    } else {
      pos = p;
      continue;
    }
    int target = lineNo;
    auto malformed = [&](const char *why) {
      report << file << ":" << lineNo << ": error: malformed 'expected-"
             << kindName(sev) << "' directive: " << why << "\n";
      ok = false;
    };
    if (p < line.size() && line[p] == '@') {
      ++p;
      int sign = 0;
      if (p < line.size() && (line[p] == '+' || line[p] == '-'))
        sign = line[p++] == '+' ? 1 : -1;
      size_t start = p;
      while (p < line.size() &&
             std::isdigit(static_cast<unsigned char>(line[p])))
        ++p;
      if (p == start || p - start > 6) {
        malformed("expected a line number after '@'");
        pos = p;
        continue;
      }
      int n = std::stoi(line.substr(start, p - start));
      target = sign == 0 ? n : lineNo + sign * n;
    }
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t'))
      ++p;
    size_t close;
    if (line.compare(p, 2, "{{") != 0 ||
        (close = line.find("}}", p + 2)) == std::string::npos) {
      malformed("expected '{{text}}'");
      pos = p;
      continue;
    }
    out.push_back({sev, target, line.substr(p + 2, close - p - 2)});
    pos = close + 2;
  }
  return ok;
}

} // namespace

bool verifyDiagnostics(const std::string &file, const std::string &text,
                       const DiagEngine &diags, std::ostream &report) {
  std::vector<Expected> expected;
  bool ok = true;
  std::istringstream in(text);
  std::string line;
  for (int lineNo = 1; std::getline(in, line); ++lineNo)
    ok &= parseDirectives(file, line, lineNo, expected, report);

  std::vector<const Diagnostic *> unexpected;
  for (const Diagnostic &d : diags.diagnostics()) {
    if (d.severity != Severity::Error && d.severity != Severity::Warning)
      continue;
    bool matched = false;
    for (Expected &e : expected) {
      if (e.seen || e.severity != d.severity || d.loc.file != file ||
          d.loc.line != e.line || d.message.find(e.text) == std::string::npos)
        continue;
      e.seen = matched = true;
      break;
    }
    if (!matched)
      unexpected.push_back(&d);
  }

  size_t shown = 0;
  for (const Diagnostic &d : diags.diagnostics())
    shown += d.severity == Severity::Error;
  if (static_cast<size_t>(diags.errorCount()) > shown) {
    report << "error: " << diags.errorCount() - shown
           << " errors over the limit were not kept and cannot be verified\n";
    ok = false;
  }

  for (Severity sev : {Severity::Error, Severity::Warning}) {
    bool header = false;
    for (const Expected &e : expected) {
      if (e.seen || e.severity != sev)
        continue;
      if (!header)
        report << "error: 'expected-" << kindName(sev)
               << "' diagnostics expected but not seen:\n";
      header = true;
      report << "  File " << file << " Line " << e.line << ": " << e.text
             << "\n";
      ok = false;
    }
    header = false;
    for (const Diagnostic *d : unexpected) {
      if (d->severity != sev)
        continue;
      if (!header)
        report << "error: 'expected-" << kindName(sev)
               << "' diagnostics seen but not expected:\n";
      header = true;
      report << "  File " << (d->loc.valid() ? d->loc.file : "?") << " Line "
             << d->loc.line << ": " << d->message << "\n";
      ok = false;
    }
  }
  return ok;
}

} // namespace nn
