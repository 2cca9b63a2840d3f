#include "petit/core/log_level.h"

#include "enum_names.h"

namespace petit {
namespace {

constexpr internal::EnumNames<LogLevel, 4> kNames = {{
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},
    {LogLevel::kError, "error"},
}};

}  // namespace

std::string_view LogLevelName(LogLevel level) { return internal::NameOf(kNames, level); }

std::span<const std::pair<LogLevel, std::string_view>> LogLevelNames() { return kNames; }

}  // namespace petit
