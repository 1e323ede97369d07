//===- FuzzNn.cpp - libFuzzer target: .nn lexer, parser, shapes -----------===//
///
/// \file
/// Bytes as a .nn file: lexing, parsing, lowering, then the pipeline up to
/// Stage::Forward (shape inference and the stable-loss rewrite).
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "frontend/Frontend.h"
#include "ir/Diagnostics.h"
#include "passes/Pipeline.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return nn::fuzz::runGuarded([&] {
    std::string text(reinterpret_cast<const char *>(data), size);
    nn::DiagEngine diags;
    diags.addSource("fuzz.nn", text);
    std::optional<nn::Model> m = nn::parseModel("fuzz.nn", text, diags);
    if (m)
      (void)nn::runPipeline(m->graph, m->recipe, nn::Stage::Forward, {},
                            diags);
    // Rendering exercises the caret/source-line code on arbitrary text.
    (void)diags.str();
  });
}
