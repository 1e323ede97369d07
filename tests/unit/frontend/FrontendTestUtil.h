//===- FrontendTestUtil.h - Helpers for the frontend tests -----*- C++ -*-===//
///
/// \file
/// Parse a .nn text in one call and look at what came out: the model, or
/// the diagnostics.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Frontend.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace nn::test {

/// The text of a file of the source tree, e.g. "examples/churn.nn".
inline std::string readSource(const std::string &rel) {
  std::ifstream in(std::string(NNC_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Parsed {
  DiagEngine diags;
  std::optional<Model> model;

  /// The errors, in order.
  std::vector<Diagnostic> errors() const {
    std::vector<Diagnostic> out;
    for (const Diagnostic &d : diags.diagnostics())
      if (d.severity == Severity::Error)
        out.push_back(d);
    return out;
  }
  /// The message of the first help line, or "".
  std::string help() const {
    for (const Diagnostic &d : diags.diagnostics())
      if (d.severity == Severity::Help)
        return d.message;
    return "";
  }
};

inline std::unique_ptr<Parsed> parseText(const std::string &text,
                                         const std::string &file = "m.nn") {
  auto p = std::make_unique<Parsed>();
  p->diags.addSource(file, text);
  p->model = parseModel(file, text, p->diags);
  return p;
}

/// Node of `g` named `name` (any kind), or -1.
inline NodeId nodeNamed(const Graph &g, const std::string &name) {
  for (NodeId i = 0; i < g.size(); ++i)
    if (g[i].name == name)
      return i;
  return -1;
}

} // namespace nn::test
