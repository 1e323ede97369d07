//===- Significant.h - A number to a few significant digits ----*- C++ -*-===//
///
/// \file
/// The number format of the teaching views' pictures and tables (node
/// values in graphs, plot coordinates and ticks, report tables): printf's
/// %g with `digits` significant digits, through fmt.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <fmt/format.h>

#include <string>

namespace nn {

/// `v` with `digits` significant digits: 0.12345 -> `0.1235`, 1e-07.
inline std::string significant(double v, int digits = 4) {
  return fmt::format("{:.{}g}", v, digits);
}

} // namespace nn
