// Fuzzes schedules (core/schedule.h: cron expressions, macros, `@every`): the first line of the
// input is the expression, an optional second line the time zone. A schedule that parses must
// give ascending fire times after a few fixed instants (a DST change in each direction, 1970,
// the end of 9999 — where there may be none).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "petit/core/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view expression = input.substr(0, newline);
  const std::string_view zone =
      newline == std::string_view::npos ? std::string_view("UTC") : input.substr(newline + 1);
  petit::Result<petit::Schedule> schedule = petit::Schedule::Parse(expression, zone);
  if (!schedule.ok()) return 0;
  constexpr int64_t kInstants[] = {
      0,                           // 1970-01-01T00:00:00Z
      1710054000000000,            // 2024-03-10T07:00:00Z, US spring forward
      1730595600000000,            // 2024-11-03T01:00:00Z, US fall back
      1729990800000000,            // 2024-10-27T01:00:00Z, EU fall back
      253402300799000000 - 60000,  // a minute before the end of 9999
  };
  for (const int64_t after : kInstants) {
    const std::vector<int64_t> fires = schedule->NextN(after, 4);
    int64_t previous = after;
    for (const int64_t fire : fires) {
      if (fire <= previous) abort();  // fire times must be strictly ascending after `after`
      previous = fire;
      (void)schedule->FormatLocal(fire);
    }
  }
  return 0;
}
