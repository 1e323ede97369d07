//===- Crc32.h - CRC-32 checksums ------------------------------*- C++ -*-===//
///
/// \file
/// The CRC-32 of zlib, gzip and PNG (reflected polynomial 0xEDB88320), used
/// to detect corrupt weights files and checkpoints.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nn {

/// Extends the CRC-32 `crc` (0 for a fresh checksum) with `size` bytes at
/// `data`: crc32(ab) == crc32(b, crc32(a)). crc32("123456789") == 0xCBF43926.
uint32_t crc32(const void *data, size_t size, uint32_t crc = 0);

/// `crc` as 8 lower-case hex digits, e.g. "cbf43926".
std::string crc32Hex(uint32_t crc);

} // namespace nn
