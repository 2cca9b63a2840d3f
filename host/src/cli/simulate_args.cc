// The parsers of `petit simulate`'s arguments (simulate_command.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/simulate_command.h"
#include "petit/core/schedule.h"
#include "petit/core/suggest.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
// Longer than any simulation needs, short enough that sums of durations never overflow.
constexpr int64_t kMaxDurationSeconds = 400 * 366 * kSecondsPerDay;
constexpr uint32_t kMaxAttempt = 1'000'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exactly `count` digits at text[pos...], advancing pos.
std::optional<int> Digits(std::string_view text, size_t& pos, size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return value;
}

bool Take(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<uint32_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 7) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

Status NotATime() {
  return InvalidArgument(
      "expected ISO 8601 such as 2026-11-01T00:00Z, 2026-11-01T00:00:00-04:00, "
      "2026-11-01T00:00[America/New_York], or 2026-11-01T00:00 in the jobs' time zone");
}

Result<int64_t> InstantOf(std::string_view rest, int64_t wall_us, std::string_view default_zone);

}  // namespace

Result<int64_t> ParseSimulationTime(std::string_view text, std::string_view default_zone) {
  size_t pos = 0;
  const std::optional<int> year = Digits(text, pos, 4);
  std::optional<int> month;
  std::optional<int> day;
  if (year && Take(text, pos, '-')) month = Digits(text, pos, 2);
  if (month && Take(text, pos, '-')) day = Digits(text, pos, 2);
  if (!day) return NotATime();
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (Take(text, pos, 'T') || Take(text, pos, 't') || Take(text, pos, ' ')) {
    const std::optional<int> h = Digits(text, pos, 2);
    std::optional<int> m;
    if (h && Take(text, pos, ':')) m = Digits(text, pos, 2);
    if (!m) return NotATime();
    hour = *h;
    minute = *m;
    if (Take(text, pos, ':')) {
      const std::optional<int> s = Digits(text, pos, 2);
      if (!s) return NotATime();
      second = *s;
    }
  }
  char wall[32];
  std::snprintf(wall, sizeof wall, "%04d-%02d-%02dT%02d:%02d:%02dZ", *year, *month, *day, hour,
                minute, second);
  // ParseIsoTime checks the ranges and that the date exists (no 2026-02-31).
  const std::optional<int64_t> wall_us = ParseIsoTime(wall);
  if (!wall_us) {
    return InvalidArgument(std::string(text.substr(0, pos)) + " is not a valid date and time");
  }
  const std::string_view rest = text.substr(pos);
  Result<int64_t> instant = InstantOf(rest, *wall_us, default_zone);
  if (instant.ok() && *instant < 0) {
    return InvalidArgument("that is before 1970-01-01T00:00Z, where schedules do not fire");
  }
  return instant;
}

namespace {

// The instant of `wall_us` (a wall time read as UTC) given the rest of the text: Z, an offset,
// [zone] or nothing (default_zone).
Result<int64_t> InstantOf(std::string_view rest, int64_t wall_us, std::string_view default_zone) {
  if (rest == "Z" || rest == "z") return wall_us;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    size_t at = 1;
    const std::optional<int> oh = Digits(rest, at, 2);
    std::optional<int> om = 0;
    if (oh && at < rest.size()) {
      Take(rest, at, ':');
      om = Digits(rest, at, 2);
    }
    if (!oh || !om || at != rest.size() || *oh > 23 || *om > 59) {
      return InvalidArgument("bad UTC offset '" + std::string(rest) +
                             "': expected +HH:MM or -HH:MM");
    }
    const int64_t offset = (*oh * 3600 + *om * 60) * (rest[0] == '-' ? -1 : 1);
    return wall_us - offset * kMicrosPerSecond;
  }
  std::string_view zone = default_zone;
  if (!rest.empty()) {
    if (rest.front() != '[' || rest.back() != ']' || rest.size() < 3) return NotATime();
    zone = rest.substr(1, rest.size() - 2);
  }
  return LocalTimeToMicros(zone, wall_us / kMicrosPerSecond);
}

}  // namespace

Result<int64_t> ParseSimulationDuration(std::string_view text) {
  static constexpr struct {
    std::string_view unit;
    int64_t micros;
  } kUnits[] = {{"d", kSecondsPerDay * kMicrosPerSecond},
                {"h", 3600 * kMicrosPerSecond},
                {"ms", 1000},
                {"m", 60 * kMicrosPerSecond},
                {"s", kMicrosPerSecond}};
  // Largest first, each once: d h m s ms.
  static constexpr std::string_view kOrder[] = {"d", "h", "m", "s", "ms"};
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("'" + std::string(text) + "' is not a duration (" + std::string(why) +
                           "; e.g. 90s, 5m, 1h30m, 250ms)");
  };
  if (text.empty()) return bad("empty");
  int64_t total = 0;
  size_t next_unit = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t number_begin = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == number_begin) return bad("a number must come before each unit");
    if (pos - number_begin > 12) return bad("too large");
    int64_t number = 0;
    for (size_t i = number_begin; i < pos; ++i) number = number * 10 + (text[i] - '0');
    const size_t unit_begin = pos;
    while (pos < text.size() && !IsDigit(text[pos])) ++pos;
    const std::string_view unit = text.substr(unit_begin, pos - unit_begin);
    if (unit.empty()) return bad("a unit must follow " + std::to_string(number));
    const auto known = std::find_if(std::begin(kUnits), std::end(kUnits),
                                    [&](const auto& u) { return u.unit == unit; });
    if (known == std::end(kUnits)) return bad("unknown unit '" + std::string(unit) + "'");
    const size_t order = static_cast<size_t>(std::find(std::begin(kOrder), std::end(kOrder), unit) -
                                             std::begin(kOrder));
    if (order < next_unit) return bad("units go largest first, each once");
    next_unit = order + 1;
    if (number > kMaxDurationSeconds * kMicrosPerSecond / known->micros) return bad("too large");
    total += number * known->micros;
    if (total > kMaxDurationSeconds * kMicrosPerSecond) return bad("too large");
  }
  return total;
}

Result<FailSpec> ParseFailSpec(std::string_view text) {
  const size_t at = text.rfind('@');
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("--fail '" + std::string(text) + "': " + std::string(why) +
                           " (expected TASK@N, TASK@N..M or TASK@*)");
  };
  if (at == std::string_view::npos) return bad("no '@'");
  FailSpec spec;
  spec.task = std::string(text.substr(0, at));
  if (spec.task.empty()) return bad("no task before '@'");
  const std::string_view attempts = text.substr(at + 1);
  if (attempts == "*") {
    spec.first_attempt = 1;
    spec.last_attempt = FailSpec::kEveryAttempt;
    return spec;
  }
  const size_t dots = attempts.find("..");
  const std::optional<uint32_t> first = ParseCount(attempts.substr(0, dots));
  const std::optional<uint32_t> last =
      dots == std::string_view::npos ? first : ParseCount(attempts.substr(dots + 2));
  if (!first || !last) return bad("attempts are whole numbers from 1");
  if (*first == 0 || *first > kMaxAttempt || *last > kMaxAttempt) {
    return bad("attempts are numbered from 1 to " + std::to_string(kMaxAttempt));
  }
  if (*last < *first) return bad("the range ends before it begins");
  spec.first_attempt = *first;
  spec.last_attempt = *last;
  return spec;
}

Result<DurationSpec> ParseDurationSpec(std::string_view text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgument("--duration '" + std::string(text) +
                           "': expected TASK=DURATION, e.g. extract=90s");
  }
  Result<int64_t> micros = ParseSimulationDuration(text.substr(eq + 1));
  if (!micros.ok()) {
    return InvalidArgument("--duration '" + std::string(text) + "': " + micros.status().message());
  }
  return DurationSpec{std::string(text.substr(0, eq)), *micros};
}

Result<TaskRef> ResolveTaskRef(std::string_view name,
                               std::span<const std::shared_ptr<const Job>> jobs) {
  // "job.task" first, where the job exists: task ids may hold dots of their own.
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    const std::string_view job_name = name.substr(0, dot);
    const std::string_view task_name = name.substr(dot + 1);
    for (const std::shared_ptr<const Job>& job : jobs) {
      if (job->id.str() != job_name) continue;
      if (job->dag.IndexOf(TaskId(std::string(task_name)))) {
        return TaskRef{job->id, TaskId(std::string(task_name))};
      }
    }
  }
  std::vector<TaskRef> found;
  std::vector<std::string> all;
  for (const std::shared_ptr<const Job>& job : jobs) {
    for (Dag::Index i = 0; i < job->dag.size(); ++i) {
      const TaskId& id = job->dag.task(i).id;
      all.push_back(job->id.str() + "." + id.str());
      if (id.str() == name) found.push_back({job->id, id});
    }
  }
  if (found.size() == 1) return found.front();
  if (found.size() > 1) {
    std::string message = "task '" + std::string(name) + "' is in several jobs; write one of";
    for (const TaskRef& ref : found) message += " " + ref.job.str() + "." + ref.task.str();
    return InvalidArgument(message);
  }
  std::string message = "no task '" + std::string(name) + "' in the simulated jobs";
  std::vector<std::string_view> names(all.begin(), all.end());
  for (const std::shared_ptr<const Job>& job : jobs) {
    for (Dag::Index i = 0; i < job->dag.size(); ++i) names.push_back(job->dag.task(i).id.str());
  }
  if (std::optional<std::string> close = ClosestMatch(name, names)) {
    message += " (did you mean '" + *close + "'?)";
  }
  return InvalidArgument(message);
}

Status CheckFireBudget(std::span<const std::shared_ptr<const Job>> jobs, int64_t from_us,
                       int64_t until_us, size_t max_fires) {
  size_t total = 0;
  const Job* busiest = nullptr;
  size_t busiest_fires = 0;
  for (const std::shared_ptr<const Job>& job : jobs) {
    if (!job->schedule) continue;
    size_t fires = 0;
    // Counting stops at the budget, so a per-second cron over a year costs max_fires steps.
    for (std::optional<int64_t> t = job->schedule->NextAfter(from_us);
         t && *t <= until_us && total + fires <= max_fires; t = job->schedule->NextAfter(*t)) {
      ++fires;
    }
    total += fires;
    if (fires > busiest_fires) {
      busiest = job.get();
      busiest_fires = fires;
    }
    if (total > max_fires) break;
  }
  if (total <= max_fires) return Status::Ok();
  return InvalidArgument("the schedules fire more than " + std::to_string(max_fires) +
                         " times in that span (the busiest: job " + busiest->id.str() + ", '" +
                         busiest->schedule->expression() + "', " + std::to_string(busiest_fires) +
                         " counted); simulate a shorter span or pick one --job");
}

}  // namespace petit::host
