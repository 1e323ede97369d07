//===- ReportParts.h - The sections of the report page ---------*- C++ -*-===//
///
/// \file
/// Private to tools/teach/Report*.cpp: the sections of `nnc report` that
/// live in their own files, and the small HTML helpers they share.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/Driver.h"

#include <optional>
#include <string>

namespace nn {

/// `text` HTML-escaped in a <pre> of class `cls` (none when empty).
std::string htmlPre(const std::string &text, const std::string &cls = "");

/// The generated code of each kernel: LLVM IR of the CPU backend (where it
/// is built in) and CUDA C++ of the CUDA printer.
std::string codeSection(const LoadedModel &m);

/// The fused-vs-unfused tables of `nnc bench --json` (FILE), or how to get
/// them. Throws UserError when FILE is not that JSON.
std::string benchSection(const LoadedModel &m,
                         const std::optional<std::string> &bench);

} // namespace nn
