//===- Idx.h - IDX files (MNIST format) ------------------------*- C++ -*-===//
///
/// \file
/// The IDX format of MNIST and Fashion-MNIST: a magic number (two zero
/// bytes, a type byte, a dimension count), big-endian int32 dimensions, then
/// the values, big-endian, row-major. Files may be gzipped. The data set
/// loaders built on this are declared in Dataset.h.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Dataset.h"
#include "runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace nn {

/// IDX element types (the third byte of the magic number).
enum class IdxType : uint8_t {
  U8 = 0x08,
  I8 = 0x09,
  I16 = 0x0B,
  I32 = 0x0C,
  F32 = 0x0D,
  F64 = 0x0E,
};

/// One IDX array, its values converted to float as they are (uint8 is not
/// scaled here).
struct IdxArray {
  IdxType type = IdxType::U8;
  /// Tensor shape == the file's dimensions.
  Tensor values;
};

/// Reads an IDX file, plain or gzipped: all of it, or the rows `rows` of
/// its first dimension (a plain file seeks past the others; a gzipped one
/// decompresses them and drops them). Throws UserError naming `path` and
/// the byte offset (in the decompressed data) of the problem: bad magic,
/// unknown type, zero dimensions, a size that overflows, rows past the end,
/// truncated data or trailing data (anywhere in the file, whatever the
/// range), corrupt gzip, a value that is not finite (in the range).
IdxArray readIdx(const std::string &path, RowRange rows = {});

/// Parses an IDX file already in memory (not gzipped); `name` is used in
/// messages. The entry point for fuzzing.
IdxArray parseIdx(const std::string &name, const uint8_t *data, size_t size);

} // namespace nn
