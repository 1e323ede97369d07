//===- Report.h - The report page of a model -------------------*- C++ -*-===//
///
/// \file
/// `nnc report`: one self-contained HTML page (inline CSS, inline SVG, one
/// small inline script; nothing fetched from the network) for a lecturer to
/// show: the summary table, the forward / backward / fused graphs (SVG from
/// Graphviz's dot, or the DOT text where dot is missing), the explain view
/// (and explain --scalar for a model small enough), the generated code of
/// each kernel (LLVM IR of the CPU backend, CUDA C of the CUDA printer), the
/// training curves of a run (the CSV of `nnc train --metrics`) and the
/// fused-vs-unfused table of `nnc bench --json`. A part that cannot be
/// shown says why and how to get it.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/Driver.h"

#include <optional>
#include <string>

namespace nn {

/// The page. `metrics` is the CSV of `nnc train --metrics`, `bench` the
/// output of `nnc bench --json`; each may be absent (the section says how
/// to get it). Throws UserError when either cannot be read; they are read
/// before any other work.
std::string reportHtml(const LoadedModel &m,
                       const std::vector<std::string> &metrics,
                       const std::optional<std::string> &bench);

} // namespace nn
