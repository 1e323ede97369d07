//===- Lower.h - Syntax tree to graph IR and recipe ------------*- C++ -*-===//
///
/// \file
/// Lowering gives the syntax tree its meaning: declarations become leaves,
/// expressions and layer sugar become ops, the loss statement becomes the
/// "loss" and "pred" outputs, and the train block becomes a Recipe.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Ast.h"
#include "frontend/Frontend.h"

namespace nn {

/// Lowers a parsed file; nullopt when it reported errors. `file` names the
/// file in locations and gives the default model name (its stem).
std::optional<Model> lower(const Program &prog, const std::string &file,
                           DiagEngine &diags);

/// Fills `recipe` from a `train { ... }` statement, checking every value.
void lowerTrain(const Stmt &train, Recipe &recipe, DiagEngine &diags);

/// The span of `e` for a caret: a negated literal covers the minus sign
/// and the number.
SrcLoc spanOf(const Expr &e);

/// The largest whole number integerValue accepts.
constexpr int64_t kMaxWholeNumber = 1000000000000000;

/// An integer literal (possibly negated) in `e`, or nullopt.
std::optional<int64_t> integerValue(const Expr &e);

} // namespace nn
