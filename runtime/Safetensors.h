//===- Safetensors.h - Weights files in the safetensors format -*- C++ -*-===//
///
/// \file
/// The format PyTorch and Hugging Face use for weights: an 8-byte
/// little-endian header size N, N bytes of JSON describing each tensor
/// (dtype, shape, data_offsets) plus string `__metadata__`, then the raw
/// little-endian data. nnc writes F32 only, atomically, with a CRC-32 of the
/// data in the metadata; it reads F32, F64, F16, BF16 and integer tensors,
/// converting them to float.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace nn {

/// The contents of a safetensors file.
struct SafetensorsFile {
  TensorMap tensors;
  std::map<std::string, std::string> metadata;
};

/// The metadata key under which writeSafetensors stores the CRC-32 of the
/// data buffer (8 lower-case hex digits).
inline constexpr const char *kCrc32Key = "crc32";

/// Reads and validates a file; throws UserError naming the file and byte
/// offset (truncated, header size too large, bad JSON, offsets out of
/// range/overlapping/not matching shape x dtype size, unsupported dtype, CRC
/// mismatch: "checksum mismatch: the file is corrupt").
SafetensorsFile readSafetensors(const std::string &path);

/// Parses a whole file already in memory; `name` is used in messages. The
/// entry point for fuzzing.
SafetensorsFile parseSafetensors(const std::string &name, const uint8_t *data,
                                 size_t size);

/// Writes atomically (see writeFileAtomic): temp file in the same directory,
/// write, fsync, rename over `path`, fsync the directory. Adds metadata
/// "crc32" (the CRC-32 of the data buffer, which readSafetensors verifies).
/// Tensors go in name order, contiguous; the header is padded with spaces
/// to a multiple of 8 bytes. On any error the temp file is removed, the old
/// file is untouched, and UserError is thrown.
void writeSafetensors(const std::string &path, const TensorMap &tensors,
                      const std::map<std::string, std::string> &metadata = {});

/// The bytes writeSafetensors writes. Throws UserError ("error: ...") for a
/// tensor whose data does not match its shape or a reserved name.
std::string
encodeSafetensors(const TensorMap &tensors,
                  const std::map<std::string, std::string> &metadata = {});

} // namespace nn
