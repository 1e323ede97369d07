//===- Format.h - Small text helpers ----------------------------*- C++ -*-===//
///
/// \file
/// The text forms that several parts of nnc print the same way: a shape, a
/// percentage, a count with thousands separators, a padded column, text
/// escaped for HTML/SVG. One copy of each, so that every message and report
/// agrees.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace nn {

/// `[2,3]`, `[]` for a scalar; `sep` goes between the dimensions (the
/// safetensors messages write `[2, 3]`).
std::string shapeStr(std::span<const int64_t> dims, std::string_view sep = ",");

/// `v` as a percentage with two decimals: 0.9712 -> `97.12%`.
std::string percent(double v);

/// `v` rounded to an integer, its digits grouped in threes:
/// 1234567 -> `1,234,567`, -1234.4 -> `-1,234`.
std::string withCommas(double v);

/// `s` followed by spaces up to `width` characters (unchanged if longer).
std::string padRight(std::string_view s, size_t width);
/// `s` preceded by spaces up to `width` characters (unchanged if longer).
std::string padLeft(std::string_view s, size_t width);
/// A table cell `width` wide: `s` padded as padRight / padLeft would, with
/// at least one space after (column) or before (columnRight) it even when
/// it is longer.
std::string column(std::string_view s, size_t width);
std::string columnRight(std::string_view s, size_t width);

/// `s` with `<`, `>`, `&` and `"` written as HTML/XML entities.
std::string htmlEscape(std::string_view s);

} // namespace nn
