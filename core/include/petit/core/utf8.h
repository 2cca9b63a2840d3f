// UTF-8 validity: the one validator shared by every layer (stored text, JSON for other programs).
// Pure functions; any thread.
#ifndef PETIT_CORE_UTF8_H_
#define PETIT_CORE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace petit {

// U+FFFD, what an invalid byte is replaced with.
inline constexpr std::string_view kUtf8ReplacementCharacter = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence that starts at text[i] (1 to 4), or 0 when there is none: a
// stray continuation byte, a truncated sequence, an overlong form, a surrogate (U+D800..U+DFFF)
// or a code point beyond U+10FFFF. Requires i < text.size(). NUL is a valid sequence of length 1.
size_t Utf8SequenceLength(std::string_view text, size_t i);

bool IsValidUtf8(std::string_view text);

// `text` as one line a terminal shows as written, for text that a plugin, a task or a client
// chose (an error, a log message): an escape sequence in it could otherwise rewrite the screen
// or forge a line. Control characters (C0 but the tab, DEL, and C1 such as U+009B, the one-byte
// CSI) become visible escapes (\n, \r, \x1b, \u009b); an invalid byte becomes U+FFFD.
std::string PrintableLine(std::string_view text);

}  // namespace petit

#endif  // PETIT_CORE_UTF8_H_
