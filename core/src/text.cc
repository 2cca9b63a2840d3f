#include "text.h"

#include <cstdint>

#include "petit/core/utf8.h"

namespace petit::internal {

std::string Printable(std::string_view text, size_t max_chars) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() < max_chars ? text.size() : max_chars + 3);
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i, ++chars) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
      continue;
    }
    // A character of another script reads as itself ('jöb', not 'j\xc3\xb6b'); C1 controls
    // (U+0080..U+009F) and bytes of no valid sequence stay escaped.
    const size_t length = Utf8SequenceLength(text, i);
    if (length > 1 && !(byte == 0xC2 && static_cast<uint8_t>(text[i + 1]) < 0xA0)) {
      out.append(text, i, length);
      i += length - 1;
      continue;
    }
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string Quoted(std::string_view text, size_t max_chars) {
  // Appended rather than built with operator+: GCC 12 at -O3 reports a false -Wrestrict on
  // `"'" + std::string` (GCC bug 105329).
  std::string quoted = "'";
  quoted.append(Printable(text, max_chars)).append("'");
  return quoted;
}

}  // namespace petit::internal
