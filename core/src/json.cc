#include "petit/core/json.h"

namespace petit {

void AppendJsonEscaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : value) {
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
