// Writing JSON string literals: task parameters, template values and stored outputs all cross as
// JSON text. One escaper, so every layer writes the same bytes. Pure functions; any thread.
#ifndef PETIT_CORE_JSON_H_
#define PETIT_CORE_JSON_H_

#include <string>
#include <string_view>

namespace petit {

// Appends `value` escaped for the inside of a JSON string literal (no quotes): what RFC 8259
// requires is escaped, every other byte (UTF-8 included) is kept as it is.
void AppendJsonEscaped(std::string& out, std::string_view value);

// Appends `value` as a complete JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view value);
std::string JsonString(std::string_view value);

}  // namespace petit

#endif  // PETIT_CORE_JSON_H_
