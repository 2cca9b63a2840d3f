// Encodings shared by the backends, so every backend stores and returns the same bytes.
//
// Text columns (job ids, triggers, errors, states) must be valid UTF-8 without NUL for PostgreSQL;
// SanitizeText makes them so in every backend alike, so a task's failure is recorded even when its
// message is binary garbage. Output values and log data are kept byte for byte.
#ifndef PETIT_STORAGE_SRC_TEXT_CODEC_H_
#define PETIT_STORAGE_SRC_TEXT_CODEC_H_

#include <string>
#include <string_view>

#include "petit/core/context.h"
#include "petit/core/status.h"
#include "petit/core/utf8.h"

namespace petit::storage::internal {

using ::petit::IsValidUtf8;  // petit/core/utf8.h

// `text` with NUL bytes and every byte that is not part of a valid UTF-8 sequence replaced by
// U+FFFD.
std::string SanitizeText(std::string_view text);

// Lower-case hex, two digits per byte.
std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);

// Outputs as a JSON object: {"key": "value", ...}. A value that is not valid UTF-8 is written as
// {"hex": "..."} so that any bytes round-trip. Keys are sanitized with SanitizeText.
std::string EncodeOutputs(const ValueMap& outputs);
// Accepts exactly what EncodeOutputs writes (plus insignificant whitespace).
Result<ValueMap> DecodeOutputs(std::string_view json);

// `text` on one line: line breaks and tabs become single spaces, caret lines ("    ^") that point
// into a statement are dropped, runs of spaces collapse, ends are trimmed.
std::string OneLine(std::string_view text);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SRC_TEXT_CODEC_H_
