// Schedule: when a job fires. A cron expression or an interval, read in an IANA time zone.
//
// Accepted (DESIGN §5, Vixie/POSIX semantics):
//   - 5 fields `min hour dom month dow`, or 6 with seconds first `sec min hour dom month dow`;
//   - lists, ranges, steps (`*/15`, `1-30/2`), month and day names (`JAN`, `MON-FRI`), day of week
//     0-7 with 0 and 7 = Sunday; when both day of month and day of week are restricted (neither is
//     `*`), a day matches if EITHER matches;
//   - extensions: `L` in day of month (last day of the month), `DOW#N` in day of week (`FRI#2`, the
//     second Friday; N in 1-5);
//   - `@yearly @annually @monthly @weekly @daily @midnight @hourly`;
//   - `@every <duration>` (`90s`, `1h30m`, `2d`; units d h m s, at least 1 s), anchored at the Unix
//     epoch so every host and every restart agree on the fire times, independent of the zone.
// Time zone: an IANA name from the system tzdata (`Europe/London`), or "" / "UTC" for UTC.
// DST: a wall time that falls in a spring-forward gap fires once, at the end of the gap; one that
// falls in a fall-back fold fires once, at its first occurrence.
//
// Parse() rejects, with a message that names the offending field and value: syntax errors, values
// out of range, unknown names or zones, and expressions that can never fire (`0 0 31 2 *`).
//
// Vixie's star rule is literal: a day field whose text starts with `*` is unrestricted, so
// `0 0 */2 * MON` fires on odd-numbered days that are Mondays. `@every` takes units largest
// first, each once (`1d2h`), at most 400 years.
//
// Times are int64 microseconds since the Unix epoch; fire times are whole seconds in years
// 1-9999. Zones come from the system tzdata as the date library reads it: transitions listed in
// the files only (Debian lists them up to 2037), so DST after the last listed one is not applied.
// A Schedule is an immutable value, cheap to copy (shared state); any thread may use it.
#ifndef PETIT_CORE_SCHEDULE_H_
#define PETIT_CORE_SCHEDULE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/status.h"

namespace petit {

// What the DST rule (above) did to one fire time, for tools that explain a schedule to people.
struct DstNote {
  enum class Kind : uint8_t {
    kNone,  // the fire's wall time happens once that day (or the schedule is UTC or `@every`)
    kGap,   // matched wall time(s) fell in a spring-forward gap; it fired once, at the gap's end
    kFold,  // its wall time happens twice (fall-back); it fired at the first occurrence only
  };
  Kind kind = Kind::kNone;
  // Local wall time as seconds since 1970-01-01T00:00 local. kGap: the first wall time of the
  // gap the expression matched; kFold: the fire's wall time.
  int64_t wall_seconds = 0;
  // kGap: how many wall times of the gap the expression matched (all fired as this one fire).
  uint32_t wall_times = 0;
  // The zone's UTC offsets (seconds) before and after the transition: kGap -05:00 then -04:00
  // in New York's spring, kFold -04:00 (the one fired) then -05:00 (skipped) in its autumn.
  int64_t offset_before_seconds = 0;
  int64_t offset_after_seconds = 0;
};

class Schedule {
 public:
  static Result<Schedule> Parse(std::string_view expression, std::string_view time_zone = "UTC");

  // The first fire time strictly after `after_us`; nullopt only if there is none in the next
  // 400 years (which Parse() already rules out for a valid expression).
  std::optional<int64_t> NextAfter(int64_t after_us) const;
  // The next `count` fire times strictly after `after_us`, ascending.
  std::vector<int64_t> NextN(int64_t after_us, size_t count) const;

  const std::string& expression() const;
  // The zone as given ("UTC" when none was).
  const std::string& time_zone() const;
  // True for `@every`.
  bool is_interval() const;

  // `t_us` as local time in the schedule's zone, ISO 8601 with offset: 2026-03-08T03:00:00-04:00.
  std::string FormatLocal(int64_t t_us) const;

  // What the DST rule did to `fire_us`, one of this schedule's fire times (NextAfter's results);
  // for any other instant the answer describes that instant's wall time all the same.
  DstNote ExplainFire(int64_t fire_us) const;

 private:
  struct Impl;
  explicit Schedule(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// The instant (epoch µs) of a wall time in `time_zone` (IANA name, "" or "UTC"), with the
// schedules' DST rule: a wall time in a gap is the gap's end, one in a fold its first occurrence.
// `local_seconds` counts from 1970-01-01T00:00 local. Fails for an unknown zone and for wall
// times outside years 1-9999.
Result<int64_t> LocalTimeToMicros(std::string_view time_zone, int64_t local_seconds);

}  // namespace petit

#endif  // PETIT_CORE_SCHEDULE_H_
