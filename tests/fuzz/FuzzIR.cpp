//===- FuzzIR.cpp - libFuzzer target: the textual IR parser ---------------===//
///
/// \file
/// Bytes as IR text (parseGraph), then the verifier on what parsed; a graph
/// the verifier accepts must print, and its text must parse back to the
/// same text (the round trip every stage's golden tests rely on).
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "ir/Diagnostics.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return nn::fuzz::runGuarded([&] {
    std::string text(reinterpret_cast<const char *>(data), size);
    nn::DiagEngine diags;
    diags.addSource("fuzz.nnir", text);
    nn::Graph g = nn::parseGraph("fuzz.nnir", text, diags);
    (void)diags.str();
    if (!nn::verifyGraph(g, {/*requireTypes=*/false}).empty())
      return;
    std::string printed = nn::printGraph(g);
    nn::DiagEngine again;
    nn::Graph g2 = nn::parseGraph("printed.nnir", printed, again);
    std::string reprinted = nn::printGraph(g2);
    if (reprinted != printed) {
      std::fprintf(stderr, "fuzz: round trip changed the text:\n%s\n---\n%s\n",
                   printed.c_str(), reprinted.c_str());
      std::abort();
    }
  });
}
