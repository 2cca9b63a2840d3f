// Helpers for putting user-written text into error messages.
#ifndef PETIT_CORE_SRC_TEXT_H_
#define PETIT_CORE_SRC_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace petit::internal {

// `text` with control and non-ASCII bytes written as \xNN, cut to `max_chars` bytes of input
// (followed by "...") so a hostile or binary value cannot flood a message or a terminal.
std::string Printable(std::string_view text, size_t max_chars = 64);

// Printable(text) between single quotes.
std::string Quoted(std::string_view text, size_t max_chars = 64);

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_TEXT_H_
