//===- Diagnostics.h - Source locations and clang-style reports -*- C++ -*-===//
///
/// \file
/// Every node carries a SrcLoc into its `.nn` file; a DiagEngine collects
/// errors, notes and help lines and renders them the way clang does:
///
///   model.nn:7:12: error: unknown activation 'rellu'
///     fc1 = dense(x, 128, rellu)
///                         ^~~~~
///   model.nn:7:12: help: did you mean 'relu'?
///
//===----------------------------------------------------------------------===//
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace nn {

/// A span in a source file: 1-based line and column, `len` characters long
/// (at least 1 for the caret). An empty `file` means "no location".
struct SrcLoc {
  std::string file;
  int line = 0;
  int col = 0;
  int len = 1;

  bool valid() const { return !file.empty() && line > 0; }
  /// "file:line:col", or "" when not valid.
  std::string str() const;
  bool operator==(const SrcLoc &o) const {
    return file == o.file && line == o.line && col == o.col && len == o.len;
  }
};

enum class Severity { Error, Warning, Note, Help };

struct Diagnostic {
  Severity severity;
  SrcLoc loc;
  std::string message; // lower case, no final period
};

/// Collects diagnostics for one run. Errors past `maxErrors` are dropped and
/// counted; notes and help lines attach to the error before them.
class DiagEngine {
public:
  /// Registers a file's text so that reports can show the source line.
  void addSource(const std::string &file, std::string text);
  const std::string *sourceText(const std::string &file) const;

  void error(const SrcLoc &loc, std::string message);
  void warning(const SrcLoc &loc, std::string message);
  void note(const SrcLoc &loc, std::string message);
  /// "help: did you mean 'relu'?" style lines; `loc` may be invalid.
  void help(const SrcLoc &loc, std::string message);

  bool hasErrors() const { return numErrors > 0; }
  int errorCount() const { return numErrors; }
  const std::vector<Diagnostic> &diagnostics() const { return diags; }

  /// Renders every diagnostic, clang style, with the source line and carets;
  /// ends with "N errors generated." when there were errors. `color` adds
  /// ANSI colours (the driver passes false when NO_COLOR is set or the stream
  /// is not a terminal).
  void print(std::ostream &os, bool color = false) const;
  std::string str() const;

  int maxErrors = 20;

private:
  void add(Severity s, const SrcLoc &loc, std::string message);
  std::map<std::string, std::string> sources;
  std::vector<Diagnostic> diags;
  int numErrors = 0;
  bool dropping = false;
};

/// The closest of `candidates` to `word` by edit distance, when it is close
/// enough to be a likely typo (distance <= max(1, len/3)); "" otherwise.
std::string closestMatch(const std::string &word,
                         const std::vector<std::string> &candidates);

} // namespace nn
