// Fuzzes the SDK's JSON reader (sdk/include/petit/plugin_json.hpp), what every plugin parses its
// params_json with. A document that parses must survive Dump and parse again to an equal value,
// and the typed getters must answer (a value or a Status) for each member.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "petit/plugin_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using petit::sdk::Json;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  petit::sdk::Result<Json> parsed = Json::Parse(text);
  if (!parsed.ok()) return 0;
  const Json& json = parsed.value();
  const std::string dumped = json.Dump();
  petit::sdk::Result<Json> again = Json::Parse(dumped);
  if (!again.ok() || again.value() != json || again.value().Dump() != dumped) abort();
  if (json.is_object()) {
    for (const auto& [key, value] : json.object_items()) {
      (void)json.GetString(key);
      (void)json.GetInt(key);
      (void)json.GetNumber(key);
      (void)json.GetBool(key);
      (void)json.GetStringArray(key);
      (void)json.GetStringMap(key);
      if (value.is_number()) (void)value.integer_value();
    }
    (void)json.CheckKeys({"command", "args", "timeout_secs", "environment"});
  }
  return 0;
}
