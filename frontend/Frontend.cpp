//===- Frontend.cpp - The frontend's entry points -------------------------===//
///
/// \file
/// Glue: lex, parse and lower, and the text dumps of the first two stages.
///
//===----------------------------------------------------------------------===//

#include "frontend/Frontend.h"

#include "frontend/Lexer.h"
#include "frontend/Lower.h"
#include "frontend/Parser.h"

#include <algorithm>
#include <limits>
#include <sstream>

namespace nn {

namespace {

/// Registers the file with the engine unless the caller already did.
void ensureSource(DiagEngine &diags, const std::string &file,
                  const std::string &text) {
  if (!diags.sourceText(file))
    diags.addSource(file, text);
}

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\'')
      out += "\\'";
    else
      out += c;
  }
  return out;
}

/// Reports everything `local` collected to `out`, ordered by position in
/// the file (the lexer runs before the parser, and checks of the whole file
/// run last); notes and help lines stay with their error.
void replaySorted(const DiagEngine &local, DiagEngine &out) {
  using Group = std::vector<const Diagnostic *>;
  std::vector<Group> groups;
  for (const Diagnostic &d : local.diagnostics()) {
    bool primary =
        d.severity == Severity::Error || d.severity == Severity::Warning;
    if (primary || groups.empty())
      groups.emplace_back();
    groups.back().push_back(&d);
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group &a, const Group &b) {
                     const SrcLoc &x = a[0]->loc, &y = b[0]->loc;
                     return std::pair(x.line, x.col) < std::pair(y.line, y.col);
                   });
  for (const Group &g : groups) {
    for (const Diagnostic *d : g) {
      switch (d->severity) {
      case Severity::Error:
        out.error(d->loc, d->message);
        break;
      case Severity::Warning:
        out.warning(d->loc, d->message);
        break;
      case Severity::Note:
        out.note(d->loc, d->message);
        break;
      case Severity::Help:
        out.help(d->loc, d->message);
        break;
      }
    }
  }
}

/// A diagnostics engine that keeps everything, for replaySorted.
DiagEngine collector() {
  DiagEngine local;
  local.maxErrors = std::numeric_limits<int>::max();
  return local;
}

} // namespace

std::string dumpTokens(const std::string &file, const std::string &text,
                       DiagEngine &diags) {
  ensureSource(diags, file, text);
  std::ostringstream os;
  for (const Token &t : lex(file, text, diags))
    os << t.loc.line << ":" << t.loc.col << " " << tokName(t.kind) << " '"
       << escape(t.text) << "'\n";
  return os.str();
}

std::string dumpAst(const std::string &file, const std::string &text,
                    DiagEngine &diags) {
  ensureSource(diags, file, text);
  DiagEngine local = collector();
  Program prog = parse(lex(file, text, local), local);
  replaySorted(local, diags);
  return local.hasErrors() ? "" : printAst(prog);
}

std::optional<Model> parseModel(const std::string &file,
                                const std::string &text, DiagEngine &diags) {
  ensureSource(diags, file, text);
  DiagEngine local = collector();
  Program prog = parse(lex(file, text, local), local);
  std::optional<Model> m = lower(prog, file, local);
  replaySorted(local, diags);
  if (local.hasErrors())
    return std::nullopt;
  return m;
}

} // namespace nn
