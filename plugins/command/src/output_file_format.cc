#include "output_file_format.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace petit::command {
namespace {

// Output keys the plugin sets itself.
constexpr std::string_view kBuiltinOutputs[] = {"exit_code", "stdout", "stderr"};
// How much of a user-written key or line a message quotes.
constexpr size_t kQuotedBytes = 64;

}  // namespace

std::string Quoted(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == kQuotedBytes) {
      out += "...";
      break;
    }
    const auto byte = static_cast<uint8_t>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += text[i];
    }
  }
  out += "'";
  return out;
}

std::string KeyProblem(std::string_view key) {
  if (key.empty()) return "empty output key";
  for (const std::string_view builtin : kBuiltinOutputs) {
    if (key == builtin) return "output key " + Quoted(key) + " is set by the plugin itself";
  }
  for (const char c : key) {
    const auto byte = static_cast<uint8_t>(c);
    if (c == '.') {
      return "output key " + Quoted(key) + " contains '.' (keys are namespaced as <task>.<key>)";
    }
    if (byte < 0x20 || byte == 0x7f) {
      return "output key " + Quoted(key) + " contains a control character";
    }
    if (c == ' ') return "output key " + Quoted(key) + " contains a space";
  }
  return {};
}

void ParseOutputFile(std::string_view text, bool truncated, const OutputWarn& warn,
                     const OutputSet& set) {
  size_t pos = 0;
  size_t line_number = 0;
  size_t line_start = 0;
  const auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      if (truncated) return false;
      end = text.size();
    }
    line_start = pos;
    line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    return true;
  };
  std::string_view line;
  while (next_line(line)) {
    if (line.empty()) continue;
    const std::string where = "line " + std::to_string(line_number) + ": ";
    const size_t equals = line.find('=');
    const size_t heredoc = line.find("<<");
    std::string_view key;
    std::string_view value;
    if (heredoc != std::string_view::npos &&
        (equals == std::string_view::npos || heredoc < equals)) {
      key = line.substr(0, heredoc);
      const std::string_view delimiter = line.substr(heredoc + 2);
      if (delimiter.empty()) {
        warn(where + "no delimiter after " + Quoted(line) + "; skipped");
        continue;
      }
      // The value is the text between the two lines, newlines inside it included.
      const size_t value_start = pos;
      size_t value_end = pos;
      bool closed = false;
      std::string_view value_line;
      while (next_line(value_line)) {
        if (value_line == delimiter) {
          closed = true;
          break;
        }
        value_end = line_start + value_line.size();
      }
      if (!closed) {
        warn(where + "no line " + Quoted(delimiter) + " ends the value of " + Quoted(key) +
             "; skipped");
        return;
      }
      value = text.substr(value_start, value_end - value_start);
    } else if (equals != std::string_view::npos) {
      key = line.substr(0, equals);
      value = line.substr(equals + 1);
    } else {
      warn(where + "expected key=value or key<<DELIMITER, not " + Quoted(line) + "; skipped");
      continue;
    }
    if (const std::string problem = KeyProblem(key); !problem.empty()) {
      warn(where + problem + "; skipped");
      continue;
    }
    if (value.size() > kMaxOutputValueBytes) {
      warn(where + "the value of " + Quoted(key) + " is " + std::to_string(value.size()) +
           " bytes (at most " + std::to_string(kMaxOutputValueBytes) + "); skipped");
      continue;
    }
    set(key, value);
  }
}

}  // namespace petit::command
