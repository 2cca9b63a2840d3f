// Diagnostic: one problem found in petit.yaml or a job file, located for people and for scripts.
//
// A plain value. `petit validate` prints ToString() and, with --json, every field.
#ifndef PETIT_HOST_CONFIG_DIAGNOSTIC_H_
#define PETIT_HOST_CONFIG_DIAGNOSTIC_H_

#include <cstdint>
#include <string>

namespace petit::host {

struct Diagnostic {
  std::string file;
  uint32_t line = 0;    // 1-based; 0 when the problem has no position (an unreadable file)
  uint32_t column = 0;  // 1-based; 0 when line is 0
  // Path of the offending key in the file: "schedule", "depends_on[1].condition",
  // "tasks.extract.retry.delay_secs", "tasks.fetch.params.url". Empty for problems of the file as
  // a whole (malformed YAML).
  std::string key;
  std::string message;

  // "<file>:<line>:<column>: <message>", or "<file>: <message>" without a position.
  std::string ToString() const {
    std::string text = file;
    if (line != 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
    return text + ": " + message;
  }
};

}  // namespace petit::host

#endif  // PETIT_HOST_CONFIG_DIAGNOSTIC_H_
