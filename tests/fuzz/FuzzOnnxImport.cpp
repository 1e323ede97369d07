//===- FuzzOnnxImport.cpp - libFuzzer target: nnc import ------------------===//
///
/// \file
/// Bytes as an ONNX model (importOnnx): a hostile file must give a
/// UserError, never a crash, a hang or a huge allocation. What imports is
/// parsed again as `.nn` text (errors there are the command's user errors,
/// so only crashes count).
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "frontend/Frontend.h"
#include "tools/onnx/OnnxImport.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return nn::fuzz::runGuarded([&] {
    std::string bytes(reinterpret_cast<const char *>(data), size);
    nn::OnnxImport r =
        nn::importOnnx("fuzz.onnx", bytes, "fuzz", "fuzz.safetensors");
    nn::DiagEngine diags;
    diags.addSource("fuzz.nn", r.nn);
    (void)nn::parseModel("fuzz.nn", r.nn, diags);
  });
}
