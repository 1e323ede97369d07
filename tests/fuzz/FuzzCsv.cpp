//===- FuzzCsv.cpp - libFuzzer target: the CSV data set reader ------------===//
///
/// \file
/// Bytes as a CSV file (parseCsvDataset). The first byte picks the label
/// column the model asks for: one the seeds have, a missing one, or none.
///
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "runtime/Csv.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  static const char *const kLabels[] = {"keep", "y", "", "label"};
  std::string label = kLabels[data[0] % 4];
  std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
  return nn::fuzz::runGuarded([&] {
    nn::Dataset d = nn::parseCsvDataset("fuzz.csv", text, label);
    if (d.x.numel() != static_cast<int64_t>(d.x.data.size()) ||
        d.y.numel() != static_cast<int64_t>(d.y.data.size()))
      std::abort();
  });
}
