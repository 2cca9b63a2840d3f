// Writing JSON text: the form task parameters and structured config values take across the ABI.
#ifndef PETIT_HOST_CONFIG_JSON_TEXT_H_
#define PETIT_HOST_CONFIG_JSON_TEXT_H_

#include <string>
#include <string_view>

namespace petit::host {

// Appends `text` as a JSON string literal (with quotes), escaping what RFC 8259 requires.
void AppendJsonString(std::string& out, std::string_view text);
std::string JsonString(std::string_view text);

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_JSON_TEXT_H_
