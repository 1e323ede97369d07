//===- Json.h - The JSON subset of safetensors headers ---------*- C++ -*-===//
///
/// \file
/// A small strict JSON reader (objects, arrays, strings with escapes,
/// numbers, literals; nesting limited) whose errors name the file and the
/// byte offset, and a string quoter for the writer.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nn {

struct JsonField;

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  size_t offset = 0; // of the value's first byte, within the header
  bool boolean = false;
  bool isUint = false; // a non-negative integer literal that fits in u64
  uint64_t uint = 0;
  std::string str;
  std::vector<Json> items;       // Array
  std::vector<JsonField> fields; // Object, in file order
};

struct JsonField {
  std::string first; // the key
  Json second;       // the value
};

/// "an object", "a string", ... for messages.
const char *jsonKindName(Json::Kind k);

/// Parses the JSON document text[0, size); `base` is where the text starts in
/// the file `name`, for byte offsets in errors (UserError).
Json parseJson(const std::string &name, const char *text, size_t size,
               size_t base);

/// Parses a whole file `name` holding one JSON document; errors say "bad
/// JSON document: ..." (UserError).
Json parseJsonFile(const std::string &name, const std::string &text);

/// Throws UserError "name: error: msg (byte offset base+at)".
[[noreturn]] void failJson(const std::string &name, size_t base,
                           const std::string &msg, size_t at);

/// `s` as a JSON string literal, quoted and escaped.
std::string jsonString(const std::string &s);

} // namespace nn
