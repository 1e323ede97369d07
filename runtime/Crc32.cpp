//===- Crc32.cpp - CRC-32 checksums ---------------------------------------===//
///
/// \file
/// Table-driven CRC-32 (one byte per step); the table is built once.
///
//===----------------------------------------------------------------------===//
#include "runtime/Crc32.h"

#include <array>
#include <cstdio>

namespace nn {

namespace {

std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

} // namespace

uint32_t crc32(const void *data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = makeTable();
  const auto *p = static_cast<const uint8_t *>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; ++i)
    c = kTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return ~c;
}

std::string crc32Hex(uint32_t crc) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(crc));
  return buf;
}

} // namespace nn
