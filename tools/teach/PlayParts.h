//===- PlayParts.h - The pieces of the playground page ---------*- C++ -*-===//
///
/// \file
/// Private to tools/teach/Play*.cpp: the page's style, its script, its body
/// (the elements the script draws into) and its data block.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/teach/Play.h"

#include <string>

namespace nn {

extern const char *const kPlayStyle;
extern const char *const kPlayScript;

/// The headings, controls and empty canvases the script fills.
std::string playBody(const PlayRun &r);

/// The run as JSON (the page's <script id="play-data"> block): frames,
/// maps, weights, curves, steps.
std::string playJson(const PlayRun &r);

} // namespace nn
