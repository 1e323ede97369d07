//===- Frontend.h - The .nn language, from text to graph -------*- C++ -*-===//
///
/// \file
/// The frontend's public entry points: token and syntax-tree dumps for
/// `nnc emit`, parsing and lowering a .nn file to a Graph and a Recipe, and
/// clang-style `-verify` checking of expected diagnostics.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "ir/Recipe.h"

#include <optional>
#include <ostream>
#include <string>

namespace nn {

/// A lowered .nn file: the forward graph with its "loss" and "pred" outputs,
/// and the training recipe.
struct Model {
  Graph graph;
  Recipe recipe;
};

/// One line per token: "LINE:COL KIND 'TEXT'" (for `nnc emit --stage=tokens`).
std::string dumpTokens(const std::string &file, const std::string &text,
                       DiagEngine &diags);

/// The AST as an indented tree (for `--stage=ast`); "" after reporting errors.
std::string dumpAst(const std::string &file, const std::string &text,
                    DiagEngine &diags);

/// Parses and lowers a .nn file; nullopt after reporting errors to `diags`.
std::optional<Model> parseModel(const std::string &file,
                                const std::string &text, DiagEngine &diags);

/// clang -verify: true when the reported diagnostics (errors and warnings)
/// are exactly those the file's `# expected-error {{text}}` /
/// `# expected-warning {{text}}` comments announce (same line, or
/// `expected-error@+1` / `@-2` relative lines; text is a substring match).
/// Writes mismatches to `report`.
bool verifyDiagnostics(const std::string &file, const std::string &text,
                       const DiagEngine &diags, std::ostream &report);

} // namespace nn
