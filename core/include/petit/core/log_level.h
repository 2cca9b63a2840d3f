// LogLevel: the one severity scale of Petit, shared by the engine, the host's logging and
// petit.yaml's `logging.level`. Plugins speak the C ABI's PETIT_LOG_* codes, which the host maps
// onto it at the boundary.
#ifndef PETIT_CORE_LOG_LEVEL_H_
#define PETIT_CORE_LOG_LEVEL_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace petit {

enum class LogLevel : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);
// Every level with its name, lowest first (what a config parser offers as choices).
std::span<const std::pair<LogLevel, std::string_view>> LogLevelNames();

}  // namespace petit

#endif  // PETIT_CORE_LOG_LEVEL_H_
