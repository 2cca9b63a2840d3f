// Private to Schedule: the parsed form of a cron or `@every` expression, and the search for the
// next wall-clock time a cron expression matches. Everything here works on local wall time
// (seconds since 1970-01-01T00:00:00 on the zone's clock face) and knows nothing of time zones;
// schedule.cc maps wall times to instants. Pure functions and plain values; any thread.
#ifndef PETIT_CORE_SRC_CRON_H_
#define PETIT_CORE_SRC_CRON_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "petit/core/status.h"

namespace petit::internal {

inline constexpr int64_t kSecondsPerDay = 86400;

// Floor division: rounds towards negative infinity, so instants before 1970 fall in the right day.
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Proleptic Gregorian calendar on day counts since 1970-01-01 (Howard Hinnant's civil-date
// algorithms, http://howardhinnant.github.io/date_algorithms.html).
struct CivilDate {
  int64_t year;
  uint32_t month;  // 1-12
  uint32_t day;    // 1-31
};

constexpr int64_t DaysFromCivil(int64_t year, uint32_t month, uint32_t day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = FloorDiv(y, 400);
  const auto yoe = static_cast<uint32_t>(y - era * 400);
  const uint32_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const auto doe = static_cast<uint32_t>(z - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  const uint32_t day = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

constexpr bool IsLeapYear(int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

constexpr uint32_t DaysInMonth(int64_t year, uint32_t month) {
  constexpr std::array<uint32_t, 13> kDays = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month];
}

// 0 = Sunday. 1970-01-01 was a Thursday.
constexpr uint32_t WeekdayFromDays(int64_t days) {
  return static_cast<uint32_t>(days - FloorDiv(days + 4, 7) * 7 + 4);
}

// A cron expression as one bitset per field: bit n set means value n matches.
struct CronSpec {
  uint64_t seconds = 0;        // bits 0-59
  uint64_t minutes = 0;        // bits 0-59
  uint32_t hours = 0;          // bits 0-23
  uint32_t days_of_month = 0;  // bits 1-31
  bool last_day_of_month = false;
  uint16_t months = 0;  // bits 1-12
  // The day-of-week field (names, numbers, `#`) unrolled over a month: bit d of entry w is set
  // when day d of a month that starts on weekday w (0 = Sunday) matches it.
  std::array<uint32_t, 7> dow_days_by_first_weekday{};
  // Vixie cron's rule: a day field whose text starts with `*` is unrestricted. When either day
  // field is unrestricted a day must match both; when both are restricted, either one.
  bool day_of_month_star = true;
  bool day_of_week_star = true;
};

// Parses 5 fields, 6 fields (seconds first) or a macro such as `@daily`, not `@every`. Rejects
// expressions that no date in a 400-year Gregorian cycle matches.
Result<CronSpec> ParseCron(std::string_view expression);

// True when `expression` (already trimmed) is an `@every` expression, in any letter case.
bool IsEveryExpression(std::string_view expression);

// The period in seconds of an `@every <duration>` expression: 1 s up to 400 years.
Result<int64_t> ParseEvery(std::string_view expression);

// Bit d set for each day d of `month` in `year` that `spec` matches.
uint32_t MatchingDays(const CronSpec& spec, int64_t year, uint32_t month);

// The first wall time at or after `from` that `spec` matches, if there is one no later than the
// end of `last_year`. Jumps field by field (month, day, hour, minute, second) with the bitsets,
// so the cost grows with the number of non-matching months crossed, not with elapsed time.
std::optional<int64_t> NextMatch(const CronSpec& spec, int64_t from, int64_t last_year);

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_CRON_H_
