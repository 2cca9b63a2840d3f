#include "runtime/time_format.h"

#include <cstdio>
#include <ctime>
#include <string_view>

namespace petit::host {
namespace {

std::tm UtcOf(int64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string FormatTime(int64_t micros) {
  if (micros == 0) return "-";
  const std::tm tm = UtcOf(micros);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string FormatLogTimestamp(int64_t micros) {
  const std::tm tm = UtcOf(micros);
  char buffer[48];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ",
                static_cast<int>(micros / 1000 % 1000));
  return buffer;
}

std::string FormatDuration(int64_t micros) {
  char buffer[32];
  if (micros < 1000) {
    std::snprintf(buffer, sizeof buffer, "%lld us", static_cast<long long>(micros));
  } else if (micros < 1000000) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(micros) / 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(micros) / 1e6);
  }
  return buffer;
}

std::optional<int64_t> ParseIsoTime(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  int64_t offset_seconds = 0;
  std::string_view zone = std::string_view(text).substr(19);
  if (zone != "Z") {
    int offset_hours = 0, offset_minutes = 0, zone_consumed = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(text.c_str() + 20, "%2d:%2d%n", &offset_hours, &offset_minutes,
                    &zone_consumed) != 2 ||
        zone_consumed != 5 || offset_hours > 23 || offset_minutes > 59) {
      return std::nullopt;
    }
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (zone[0] == '-' ? -1 : 1);
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const int64_t seconds = static_cast<int64_t>(timegm(&tm));
  if (tm.tm_mday != day) return std::nullopt;  // timegm normalised 2026-02-31 into March
  return (seconds - offset_seconds) * 1000000;
}

}  // namespace petit::host
