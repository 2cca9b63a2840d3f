#include "petit/core/json.h"

#include <cstdint>

#include "petit/core/utf8.h"

namespace petit {

namespace {

void AppendEscapedByte(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    case '\b':
      out.append("\\b");
      break;
    case '\f':
      out.append("\\f");
      break;
    default:
      if (static_cast<uint8_t>(c) < 0x20) {
        out.append("\\u00");
        out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
        out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
      } else {
        out.push_back(c);
      }
  }
}

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view value) {
  for (const char c : value) AppendEscapedByte(out, c);
}

void AppendJsonUtf8Escaped(std::string& out, std::string_view value) {
  for (size_t i = 0; i < value.size();) {
    const size_t length = Utf8SequenceLength(value, i);
    if (length == 0) {
      out.append(kUtf8ReplacementCharacter);
      ++i;
    } else if (length == 1) {
      AppendEscapedByte(out, value[i++]);
    } else {
      out.append(value.substr(i, length));
      i += length;
    }
  }
}

std::string JsonUtf8String(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  AppendJsonUtf8Escaped(out, value);
  out.push_back('"');
  return out;
}

void AppendJsonString(std::string& out, std::string_view value) {
  out.push_back('"');
  AppendJsonEscaped(out, value);
  out.push_back('"');
}

std::string JsonString(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  AppendJsonString(out, value);
  return out;
}

}  // namespace petit
