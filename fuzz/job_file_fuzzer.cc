// Fuzzes the job-file loader (host/src/config/job_loader.h): one YAML document as a job file, with
// task types and parameter schemas declared, so that type checks, suggestions and JSON Schema
// checks run too. Problems are expected; crashes, hangs, leaks and UB are not.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/job_loader.h"

namespace {

const petit::host::JobLoaderOptions& Options() {
  static const petit::host::JobLoaderOptions options = [] {
    petit::host::JobLoaderOptions o;
    o.known_types = {"command", "noop", "sleep", "fail", "http.request"};
    o.params_schemas.emplace(
        "sleep", R"({"type":"object","properties":{"ms":{"type":"integer","minimum":0}},)"
                 R"("required":["ms"],"additionalProperties":false})");
    o.params_schemas.emplace("http.request", R"({
      "type": "object",
      "properties": {
        "url": {"type": "string", "minLength": 1, "pattern": "^https?://"},
        "method": {"type": "string", "enum": ["GET", "POST"]},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "headers": {"type": "object", "additionalProperties": {"type": "string"},
                    "propertyNames": {"pattern": "^[A-Za-z-]+$"}},
        "expect": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        "body": {"oneOf": [{"type": "string"}, {"type": "object"}]},
        "mode": {"anyOf": [{"const": "a"}, {"not": {"type": "number"}}]}
      },
      "required": ["url"],
      "additionalProperties": false})");
    o.default_time_zone = "Europe/Paris";
    return o;
  }();
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  petit::host::LoadedJobs loaded = petit::host::LoadJobFromString(yaml, "fuzz.yaml", Options());
  size_t length = 0;
  for (const petit::host::Diagnostic& problem : loaded.errors) length += problem.ToString().size();
  for (const petit::host::Diagnostic& problem : loaded.warnings) {
    length += problem.ToString().size();
  }
  return length == SIZE_MAX ? -1 : 0;
}
