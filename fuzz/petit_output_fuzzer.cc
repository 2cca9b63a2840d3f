// Fuzzes the reader of the file a command writes at $PETIT_OUTPUT
// (plugins/command/src/output_file_format.h), as a whole file and as the start of a longer one.
// Every key it sets must be one KeyProblem accepts, and every value must lie within the input
// and its bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "output_file_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool truncated : {false, true}) {
    size_t warnings = 0;
    petit::command::ParseOutputFile(
        text, truncated, [&](const std::string& message) { warnings += message.empty() ? 0 : 1; },
        [&](std::string_view key, std::string_view value) {
          if (!petit::command::KeyProblem(key).empty()) abort();
          if (value.size() > petit::command::kMaxOutputValueBytes) abort();
          if (value.data() < text.data() ||
              value.data() + value.size() > text.data() + text.size()) {
            abort();
          }
        });
  }
  return 0;
}
