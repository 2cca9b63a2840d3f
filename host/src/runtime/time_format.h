// How the host writes times and durations for people: the CLI's tables and the daemon's log.
//
// Threads: pure functions, callable from any thread.
#ifndef PETIT_HOST_RUNTIME_TIME_FORMAT_H_
#define PETIT_HOST_RUNTIME_TIME_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>

namespace petit::host {

// "2026-03-08T01:30:00Z" (UTC, whole seconds); "-" for 0, the stores' "not yet".
std::string FormatTime(int64_t micros);
// "2026-03-08T01:30:00.250Z": UTC with milliseconds, for log lines.
std::string FormatLogTimestamp(int64_t micros);
// "250 us", "12.5 ms", "3.20 s".
std::string FormatDuration(int64_t micros);

// "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM" / "-HH:MM", as microseconds since the epoch;
// nullopt for anything else, including dates that do not exist (2026-02-31).
std::optional<int64_t> ParseIsoTime(const std::string& text);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_TIME_FORMAT_H_
