//===- Json.cpp - The JSON subset of safetensors headers ------------------===//

#include "runtime/Json.h"

#include "ir/Support.h"

#include <cstdio>
#include <cstring>

namespace nn {

const char *jsonKindName(Json::Kind k) {
  switch (k) {
  case Json::Kind::Null:
    return "null";
  case Json::Kind::Bool:
    return "a boolean";
  case Json::Kind::Number:
    return "a number";
  case Json::Kind::String:
    return "a string";
  case Json::Kind::Array:
    return "an array";
  case Json::Kind::Object:
    return "an object";
  }
  return "a value";
}

namespace {

/// Parses JSON text; errors throw UserError with the byte offset of the
/// problem plus `base` (where the text sits in the file).
class JsonParser {
public:
  JsonParser(const std::string &name, const char *text, size_t size,
             size_t base, bool whole)
      : name(name), text(text), size(size), base(base),
        doc(whole ? "JSON document" : "JSON header"),
        endName(whole ? "file" : "header"), bad("bad " + doc + ": ") {}

  Json parseDocument() {
    skipSpace();
    Json v = parseValue(0);
    skipSpace();
    if (pos < size)
      fail("unexpected text after the " + doc, pos);
    return v;
  }

  [[noreturn]] void fail(const std::string &msg, size_t at) const {
    failJson(name, base, msg, at);
  }

private:
  static constexpr int kMaxDepth = 64;

  void skipSpace() {
    while (pos < size && (text[pos] == ' ' || text[pos] == '\t' ||
                          text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  Json parseValue(int depth) {
    if (depth > kMaxDepth)
      fail(doc + " nested too deeply", pos);
    if (pos >= size)
      fail(bad + "unexpected end of the " + endName, pos);
    char c = text[pos];
    if (c == '{')
      return parseObject(depth);
    if (c == '[')
      return parseArray(depth);
    if (c == '"') {
      Json v;
      v.kind = Json::Kind::String;
      v.offset = pos;
      v.str = parseString();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return parseNumber();
    for (const char *lit : {"true", "false", "null"}) {
      size_t n = std::strlen(lit);
      if (size - pos >= n && std::memcmp(text + pos, lit, n) == 0) {
        Json v;
        v.offset = pos;
        v.kind = lit[0] == 'n' ? Json::Kind::Null : Json::Kind::Bool;
        v.boolean = lit[0] == 't';
        pos += n;
        return v;
      }
    }
    fail((bad + "unexpected ") + describe(c), pos);
  }

  static std::string describe(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F)
      return std::string("character '") + c + "'";
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", u);
    return buf;
  }

  void expect(char c) {
    if (pos >= size)
      fail((bad + "expected '") + c + "', found the end of the " + endName,
           pos);
    if (text[pos] != c)
      fail((bad + "expected '") + c + "', found " + describe(text[pos]), pos);
    ++pos;
  }

  Json parseObject(int depth) {
    Json v;
    v.kind = Json::Kind::Object;
    v.offset = pos;
    expect('{');
    skipSpace();
    if (pos < size && text[pos] == '}') {
      ++pos;
      return v;
    }
    for (;;) {
      skipSpace();
      size_t keyAt = pos;
      if (pos >= size || text[pos] != '"')
        expect('"');
      std::string key = parseString();
      for (const auto &f : v.fields)
        if (f.first == key)
          fail(bad + "duplicate key '" + key + "'", keyAt);
      skipSpace();
      expect(':');
      skipSpace();
      v.fields.push_back(JsonField{std::move(key), parseValue(depth + 1)});
      skipSpace();
      if (pos < size && text[pos] == ',') {
        ++pos;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Json parseArray(int depth) {
    Json v;
    v.kind = Json::Kind::Array;
    v.offset = pos;
    expect('[');
    skipSpace();
    if (pos < size && text[pos] == ']') {
      ++pos;
      return v;
    }
    for (;;) {
      skipSpace();
      v.items.push_back(parseValue(depth + 1));
      skipSpace();
      if (pos < size && text[pos] == ',') {
        ++pos;
        continue;
      }
      expect(']');
      return v;
    }
  }

  unsigned hex4(size_t at) {
    if (size - at < 4)
      fail(bad + "truncated \\u escape", at);
    unsigned v = 0;
    for (size_t i = 0; i < 4; ++i) {
      char c = text[at + i];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        fail(bad + "bad hex digit in \\u escape", at + i);
      v = v * 16 + d;
    }
    return v;
  }

  static void appendUtf8(std::string &out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parseString() {
    size_t start = pos;
    ++pos; // the opening quote
    std::string out;
    for (;;) {
      if (pos >= size)
        fail(bad + "unterminated string", start);
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail(bad + "control character in a string", pos);
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      if (pos + 1 >= size)
        fail(bad + "unterminated string", start);
      char e = text[pos + 1];
      size_t escAt = pos;
      pos += 2;
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned cp = hex4(pos);
        pos += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (size - pos < 6 || text[pos] != '\\' || text[pos + 1] != 'u')
            fail(bad + "unpaired surrogate in \\u escape", escAt);
          unsigned lo = hex4(pos + 2);
          if (lo < 0xDC00 || lo >= 0xE000)
            fail(bad + "unpaired surrogate in \\u escape", escAt);
          pos += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          fail(bad + "unpaired surrogate in \\u escape", escAt);
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        fail(bad + "unknown escape '\\" + std::string(1, e) + "'", escAt);
      }
    }
  }

  Json parseNumber() {
    Json v;
    v.kind = Json::Kind::Number;
    v.offset = pos;
    size_t start = pos;
    bool negative = text[pos] == '-';
    if (negative)
      ++pos;
    if (pos >= size || !(text[pos] >= '0' && text[pos] <= '9'))
      fail(bad + "bad number", start);
    bool overflow = false;
    uint64_t u = 0;
    if (text[pos] == '0' && pos + 1 < size && text[pos + 1] >= '0' &&
        text[pos + 1] <= '9')
      fail(bad + "number with a leading zero", start);
    while (pos < size && text[pos] >= '0' && text[pos] <= '9') {
      unsigned d = text[pos] - '0';
      if (u > (UINT64_MAX - d) / 10)
        overflow = true;
      else
        u = u * 10 + d;
      ++pos;
    }
    bool integer = true;
    if (pos < size && text[pos] == '.') {
      integer = false;
      ++pos;
      if (pos >= size || !(text[pos] >= '0' && text[pos] <= '9'))
        fail(bad + "bad number", start);
      while (pos < size && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
    }
    if (pos < size && (text[pos] == 'e' || text[pos] == 'E')) {
      integer = false;
      ++pos;
      if (pos < size && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (pos >= size || !(text[pos] >= '0' && text[pos] <= '9'))
        fail(bad + "bad number", start);
      while (pos < size && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
    }
    v.isUint = integer && !negative && !overflow;
    v.uint = u;
    v.str.assign(text + start, pos - start);
    return v;
  }

  const std::string &name;
  const char *text;
  size_t size;
  size_t base;
  // Messages: "JSON header" in safetensors, "JSON document" for a whole file.
  std::string doc, endName, bad;
  size_t pos = 0;
};

} // namespace

Json parseJson(const std::string &name, const char *text, size_t size,
               size_t base) {
  return JsonParser(name, text, size, base, false).parseDocument();
}

Json parseJsonFile(const std::string &name, const std::string &text) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw UserError(name + ": error: empty file (expected a JSON document)");
  return JsonParser(name, text.data(), text.size(), 0, true).parseDocument();
}

void failJson(const std::string &name, size_t base, const std::string &msg,
              size_t at) {
  throw UserError(name + ": error: " + msg + " (byte offset " +
                  std::to_string(base + at) + ")");
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace nn
