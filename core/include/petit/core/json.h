// Writing JSON string literals: task parameters, template values and stored outputs all cross as
// JSON text. One escaper, so every layer writes the same bytes. Pure functions; any thread.
#ifndef PETIT_CORE_JSON_H_
#define PETIT_CORE_JSON_H_

#include <string>
#include <string_view>

namespace petit {

// Appends `value` escaped for the inside of a JSON string literal (no quotes): what RFC 8259
// requires is escaped, every other byte (UTF-8 included) is kept as it is. For JSON between
// petit's own layers (task parameters, stored outputs), where any bytes must round-trip.
void AppendJsonEscaped(std::string& out, std::string_view value);

// Appends `value` as a complete JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view value);
std::string JsonString(std::string_view value);

// JSON for other programs (`--json` output): always valid UTF-8, whatever bytes `value` holds (a
// file name, a YAML scalar, an OS error message). Escaped as AppendJsonEscaped, except that each
// byte not part of a valid UTF-8 sequence (utf8.h: stray, truncated, overlong, surrogate, beyond
// U+10FFFF) becomes U+FFFD. NUL and other control characters are \u escapes.
void AppendJsonUtf8Escaped(std::string& out, std::string_view value);
std::string JsonUtf8String(std::string_view value);

}  // namespace petit

#endif  // PETIT_CORE_JSON_H_
