#include "petit/core/schedule.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <utility>

#include "cron.h"
#include "petit/core/suggest.h"
#include "text.h"

namespace petit {

using internal::CronSpec;
using internal::FloorDiv;
using internal::kSecondsPerDay;

struct Schedule::Impl {
  std::string expression;
  std::string time_zone;
  // Owned by date's process-wide tzdb, which lives until exit. nullptr for UTC, which then needs
  // no zone lookup at all. Built with USE_OS_TZDB, date reads only the transitions listed in the
  // TZif files, not their POSIX-rule footer: Debian's "fat" files list them up to 2037, and after
  // the last one the zone keeps its last offset (no DST). "Slim" files would stop much earlier.
  const date::time_zone* zone = nullptr;
  int64_t every_seconds = 0;  // > 0 for `@every`
  CronSpec cron;
};

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
// Fire times stay within years 1-9999, where every tzdb and calendar computation is exact.
constexpr int64_t kFirstSecond = internal::DaysFromCivil(1, 1, 1) * kSecondsPerDay;
constexpr int64_t kEndSecond = internal::DaysFromCivil(10000, 1, 1) * kSecondsPerDay;
constexpr int64_t kLastYear = 9999;
// How far a search looks: one Gregorian cycle (400 years) holds every date pattern, plus one
// year because the search starts anywhere within its first year.
constexpr int64_t kSearchYears = 401;
// No zone has ever moved its clocks by more than a day at once (Samoa skipped 2011-12-30). Away
// from a transition by more than this, a wall time has exactly one instant.
constexpr int64_t kMaxOffsetJumpSeconds = 2 * kSecondsPerDay;

date::sys_seconds SysSeconds(int64_t seconds) {
  return date::sys_seconds{std::chrono::seconds{seconds}};
}

int64_t Count(date::sys_seconds t) { return t.time_since_epoch().count(); }

std::vector<std::string_view> ZoneNames() {
  std::vector<std::string_view> names;
  for (const date::time_zone& zone : date::get_tzdb().zones) names.emplace_back(zone.name());
  return names;
}

Result<const date::time_zone*> LocateZone(std::string_view name) {
  if (name.empty() || name == "UTC") return nullptr;
  try {
    const date::time_zone* zone = date::locate_zone(name);
    // The zone's file is read on first use: read it now, so a damaged tzdata file is reported
    // by Parse() and NextAfter() never meets the exception.
    static_cast<void>(zone->get_info(SysSeconds(0)));
    return zone;
  } catch (const std::exception& lookup_error) {
    std::vector<std::string_view> names;
    try {
      names = ZoneNames();
    } catch (const std::exception& tzdb_error) {
      return Unavailable("cannot read the time zone database (system tzdata) for " +
                         internal::Quoted(name) + ": " + tzdb_error.what());
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return Unavailable("cannot load time zone " + internal::Quoted(name) +
                         " from the system tzdata: " + lookup_error.what());
    }
    std::string message = "unknown time zone " + internal::Quoted(name);
    std::optional<NameGuess> spelling;
    if (std::optional<std::string> close = ClosestMatch(name, names)) {
      message.append(" (did you mean '").append(*close).append("'?)");
    } else if ((spelling = GuessName(name, names)) && spelling->kind == GuessKind::kSpelling) {
      // Another case or separator only ("america/new york"); no looser guess among 600 zones.
      message.append(" (did you mean '").append(spelling->name).append("'?)");
    } else {
      message.append(" (expected an IANA name such as 'Europe/London', or 'UTC')");
    }
    return InvalidArgument(std::move(message));
  }
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// The zone's period around one instant, kept for the whole of a NextAfter call: most wall times
// the search tries fall well inside it and need no further lookup.
struct Period {
  int64_t offset = 0;
  int64_t safe_begin = std::numeric_limits<int64_t>::min();  // instants in [safe_begin,
  int64_t safe_end = std::numeric_limits<int64_t>::max();    // safe_end) are unambiguous
};

Period PeriodAt(const date::time_zone* zone, int64_t t) {
  if (zone == nullptr) return {};
  const date::sys_info info = zone->get_info(SysSeconds(std::clamp(t, kFirstSecond, kEndSecond)));
  return {info.offset.count(), Count(info.begin) + kMaxOffsetJumpSeconds,
          Count(info.end) - kMaxOffsetJumpSeconds};
}

// The instant a wall time fires at.
struct Resolved {
  int64_t instant;
  // For a wall time in a fold: the first wall time after the fold, as the search must resume
  // there when the first occurrence has passed. Otherwise the wall time itself.
  int64_t fold_end;
};

// The DST rule (DESIGN §5). Each matching wall time W fires at most once:
//   - W exists once: at that instant;
//   - W is in a fall-back fold (it happens twice): at its first occurrence only, so during the
//     repeated hour `0 * * * *` or `*/15 * * * *` stay silent the second time round;
//   - W is in a spring-forward gap (it never happens): at the end of the gap, the transition
//     instant. All wall times of the gap, and the wall time at its end (03:00 in New York), map
//     to that one instant, so `*/15 * * * *` fires once at 03:00 for 02:00-03:00 together.
// The mapping never goes backwards as W grows, so the first matching W whose instant is after
// `t` gives the first fire after `t`.
Resolved Resolve(const date::time_zone* zone, const Period& near, int64_t wall) {
  const int64_t guess = wall - near.offset;
  if (zone == nullptr || (guess >= near.safe_begin && guess < near.safe_end)) {
    return {guess, wall};
  }
  const date::local_info info = zone->get_info(date::local_seconds{std::chrono::seconds{wall}});
  switch (info.result) {
    case date::local_info::nonexistent:
      return {Count(info.second.begin), wall};
    case date::local_info::ambiguous:
      return {wall - info.first.offset.count(),
              Count(info.second.begin) + info.first.offset.count()};
    case date::local_info::unique:
      break;
  }
  return {wall - info.first.offset.count(), wall};
}

std::optional<int64_t> NextInterval(int64_t period_seconds, int64_t after_us) {
  const int64_t period_us = period_seconds * kMicrosPerSecond;
  after_us = std::max(after_us, kFirstSecond * kMicrosPerSecond - 1);
  const int64_t index = FloorDiv(after_us, period_us) + 1;
  if (index > kEndSecond * kMicrosPerSecond / period_us) return std::nullopt;
  const int64_t next = index * period_us;
  if (next >= kEndSecond * kMicrosPerSecond) return std::nullopt;
  return next;
}

}  // namespace

Schedule::Schedule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<Schedule> Schedule::Parse(std::string_view expression, std::string_view time_zone) {
  auto impl = std::make_shared<Impl>();
  impl->expression = std::string(expression);
  impl->time_zone = time_zone.empty() ? "UTC" : std::string(time_zone);
  const std::string_view text = Trim(expression);
  if (internal::IsEveryExpression(text)) {
    Result<int64_t> period = internal::ParseEvery(text);
    if (!period.ok()) return period.status();
    impl->every_seconds = *period;
  } else {
    Result<CronSpec> cron = internal::ParseCron(text);
    if (!cron.ok()) return cron.status();
    impl->cron = *cron;
  }
  Result<const date::time_zone*> zone = LocateZone(time_zone);
  if (!zone.ok()) return zone.status();
  impl->zone = *zone;
  return Schedule(std::move(impl));
}

std::optional<int64_t> Schedule::NextAfter(int64_t after_us) const {
  const Impl& impl = *impl_;
  if (impl.every_seconds > 0) return NextInterval(impl.every_seconds, after_us);

  const int64_t after = FloorDiv(after_us, kMicrosPerSecond);
  if (after >= kEndSecond) return std::nullopt;
  const Period near = PeriodAt(impl.zone, after);
  // Fire times are whole seconds, so the first candidate is the wall second after `after`.
  int64_t from = std::max(after + near.offset + 1, kFirstSecond);
  const int64_t first_year = internal::CivilFromDays(FloorDiv(from, kSecondsPerDay)).year;
  const int64_t last_year = std::min(first_year + kSearchYears, kLastYear);
  while (true) {
    const std::optional<int64_t> wall = internal::NextMatch(impl.cron, from, last_year);
    if (!wall) return std::nullopt;
    const Resolved resolved = Resolve(impl.zone, near, *wall);
    // Only a wall time in a fold whose first occurrence is at or before `after` (the search began
    // in the repeated hour) fails this; the search then resumes after the fold.
    if (resolved.instant > after) {
      if (resolved.instant >= kEndSecond) return std::nullopt;
      return resolved.instant * kMicrosPerSecond;
    }
    from = std::max(*wall + 1, resolved.fold_end);
  }
}

std::vector<int64_t> Schedule::NextN(int64_t after_us, size_t count) const {
  constexpr size_t kMaxReserve = 1024;
  std::vector<int64_t> times;
  times.reserve(std::min(count, kMaxReserve));
  int64_t t = after_us;
  while (times.size() < count) {
    const std::optional<int64_t> next = NextAfter(t);
    if (!next) break;
    times.push_back(*next);
    t = *next;
  }
  return times;
}

const std::string& Schedule::expression() const { return impl_->expression; }

const std::string& Schedule::time_zone() const { return impl_->time_zone; }

bool Schedule::is_interval() const { return impl_->every_seconds > 0; }

DstNote Schedule::ExplainFire(int64_t fire_us) const {
  const Impl& impl = *impl_;
  DstNote note;
  if (impl.zone == nullptr || impl.every_seconds > 0) return note;
  const int64_t fire = std::clamp(FloorDiv(fire_us, kMicrosPerSecond), kFirstSecond + 1,
                                  kEndSecond - kMaxOffsetJumpSeconds);
  const date::sys_info info = impl.zone->get_info(SysSeconds(fire));
  const int64_t wall = fire + info.offset.count();
  const date::local_info local =
      impl.zone->get_info(date::local_seconds{std::chrono::seconds{wall}});
  if (local.result == date::local_info::ambiguous) {
    note.kind = DstNote::Kind::kFold;
    note.wall_seconds = wall;
    note.offset_before_seconds = local.first.offset.count();
    note.offset_after_seconds = local.second.offset.count();
    return note;
  }
  // A gap's wall times all fire at its end, the transition instant (see Resolve).
  if (Count(info.begin) != fire) return note;
  const date::sys_info before = impl.zone->get_info(SysSeconds(fire - 1));
  if (before.offset >= info.offset) return note;
  const int64_t gap_begin = fire + before.offset.count();
  const int64_t gap_end = wall;  // exclusive: the wall time at the end of the gap exists
  const int64_t year = internal::CivilFromDays(FloorDiv(gap_end, kSecondsPerDay)).year;
  for (std::optional<int64_t> match = internal::NextMatch(impl.cron, gap_begin, year);
       match && *match < gap_end; match = internal::NextMatch(impl.cron, *match + 1, year)) {
    if (note.wall_times == 0) note.wall_seconds = *match;
    ++note.wall_times;
  }
  if (note.wall_times == 0) return note;
  note.kind = DstNote::Kind::kGap;
  note.offset_before_seconds = before.offset.count();
  note.offset_after_seconds = info.offset.count();
  return note;
}

Result<int64_t> LocalTimeToMicros(std::string_view time_zone, int64_t local_seconds) {
  Result<const date::time_zone*> zone = LocateZone(time_zone);
  if (!zone.ok()) return zone.status();
  if (local_seconds < kFirstSecond + kMaxOffsetJumpSeconds ||
      local_seconds >= kEndSecond - kMaxOffsetJumpSeconds) {
    return InvalidArgument("time out of range (years 1-9999)");
  }
  // An empty period forces Resolve to ask the zone about this wall time.
  const Period unknown{0, 0, 0};
  return Resolve(*zone, unknown, local_seconds).instant * kMicrosPerSecond;
}

std::string Schedule::FormatLocal(int64_t t_us) const {
  const int64_t seconds = FloorDiv(t_us, kMicrosPerSecond);
  const int64_t micros = t_us - seconds * kMicrosPerSecond;
  const int64_t offset = PeriodAt(impl_->zone, seconds).offset;
  const int64_t local = seconds + offset;
  const int64_t day = FloorDiv(local, kSecondsPerDay);
  const int64_t second_of_day = local - day * kSecondsPerDay;
  const internal::CivilDate date = internal::CivilFromDays(day);

  char buffer[64];
  int length = std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                             static_cast<long long>(date.year), date.month, date.day,
                             static_cast<long long>(second_of_day / 3600),
                             static_cast<long long>(second_of_day / 60 % 60),
                             static_cast<long long>(second_of_day % 60));
  std::string out(buffer, static_cast<size_t>(length));
  if (micros != 0) {
    length = std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(micros));
    out.append(buffer, static_cast<size_t>(length));
  }
  const int64_t magnitude = offset < 0 ? -offset : offset;
  length = std::snprintf(buffer, sizeof buffer, "%c%02lld:%02lld", offset < 0 ? '-' : '+',
                         static_cast<long long>(magnitude / 3600),
                         static_cast<long long>(magnitude / 60 % 60));
  out.append(buffer, static_cast<size_t>(length));
  // Local mean time before a zone's first standard offset has seconds (New York: -04:56:02).
  if (magnitude % 60 != 0) {
    length =
        std::snprintf(buffer, sizeof buffer, ":%02lld", static_cast<long long>(magnitude % 60));
    out.append(buffer, static_cast<size_t>(length));
  }
  return out;
}

}  // namespace petit
