// The format of the file named by $PETIT_OUTPUT (command_plugin.cc): `key=value` lines, or
// `key<<DELIMITER`, the value's lines and a line holding only DELIMITER (the GitHub Actions
// format). Lines end at '\n'. A key is non-empty, without '.', spaces or control characters, and
// not one the plugin sets itself (exit_code, stdout, stderr); a value is at most
// kMaxOutputValueBytes. What breaks these rules is skipped with a warning naming its line.
//
// Pure functions; any thread. Apart from the plugin so that tests and the fuzzer reach it.
#ifndef PETIT_PLUGINS_COMMAND_OUTPUT_FILE_FORMAT_H_
#define PETIT_PLUGINS_COMMAND_OUTPUT_FILE_FORMAT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace petit::command {

inline constexpr size_t kMaxOutputValueBytes = 1024 * 1024;

// `text` between single quotes, control bytes as \xNN, cut after 64 bytes.
std::string Quoted(std::string_view text);

// Why `key` cannot be an output written to $PETIT_OUTPUT; empty when it can. A space is refused
// although the host would take it: "rows = 5" is a typo, not the key "rows ".
std::string KeyProblem(std::string_view key);

using OutputWarn = std::function<void(const std::string& message)>;
using OutputSet = std::function<void(std::string_view key, std::string_view value)>;

// Reads `key=value` lines and `key<<DELIMITER` blocks and calls set(key, value) for each valid
// one, in file order (a later value for a key replaces an earlier one at the host), and warn(...)
// for each problem. `truncated`: `text` is the start of a longer file, so an unfinished last line
// is not a line. The views passed to `set` point into `text`.
void ParseOutputFile(std::string_view text, bool truncated, const OutputWarn& warn,
                     const OutputSet& set);

}  // namespace petit::command

#endif  // PETIT_PLUGINS_COMMAND_OUTPUT_FILE_FORMAT_H_
