//===- FuzzSafetensors.cpp - libFuzzer target: safetensors reader ---------===//
///
/// \file
/// Bytes as a safetensors file (parseSafetensors). What parses must encode
/// again and parse back to the same tensors.
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "runtime/Safetensors.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return nn::fuzz::runGuarded([&] {
    nn::SafetensorsFile f = nn::parseSafetensors("fuzz.safetensors", data, size);
    for (const auto &[name, t] : f.tensors)
      if (t.numel() != static_cast<int64_t>(t.data.size()))
        std::abort();
    std::map<std::string, std::string> meta = f.metadata;
    meta.erase(nn::kCrc32Key);
    std::string bytes = nn::encodeSafetensors(f.tensors, meta);
    nn::SafetensorsFile back = nn::parseSafetensors(
        "reencoded", reinterpret_cast<const uint8_t *>(bytes.data()),
        bytes.size());
    if (back.tensors.size() != f.tensors.size())
      std::abort();
    for (const auto &[name, t] : f.tensors) {
      const nn::Tensor &u = back.tensors.at(name);
      if (u.shape != t.shape ||
          std::memcmp(u.data.data(), t.data.data(), t.data.size() * 4) != 0)
        std::abort();
    }
  });
}
