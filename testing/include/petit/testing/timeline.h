// petit/testing/timeline.h: what a TestHarness saw happen, in order, for tests to assert on and
// for people to read (text) or scripts to parse (JSON).
//
// Entries are built from the engine's EventBus events (fires, refusals, run and task events, in
// the order the engine published them) joined with what the state store recorded for each
// attempt (start and end times, exit code, error) and with the retry times the engine chose.
// Times are epoch microseconds on the harness's virtual clock.
//
// OWNERSHIP: a Timeline is a plain value (a snapshot); copying it copies the entries.
// THREADS: a const Timeline may be read from several threads at once.
#ifndef PETIT_TESTING_TIMELINE_H_
#define PETIT_TESTING_TIMELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petit::testing {

enum class EntryKind : uint8_t {
  kFired,           // the scheduler started (or queued: `queued`) a run for an occurrence or a
                    // manual trigger
  kRefused,         // an occurrence or trigger was refused: `reason`, `detail`
  kRunStarted,      // a run began: `trigger`
  kRunEnded,        // a run ended: `status` ("succeeded", "failed", "cancelled", ...)
  kAttemptStarted,  // an attempt of `task` began: `attempt`
  kAttemptEnded,    // an attempt ended: `status`, `exit_code`, `error`, started/ended times
  kRetryScheduled,  // a failed attempt will be retried at `retry_at_us` (after `delay_us`)
  kTaskSkipped,     // a task did not run: `status` ("skipped" or "upstream_failed"), `detail`
};

// "fired", "refused", "run_started", "run_ended", "attempt_started", "attempt_ended",
// "retry_scheduled", "task_skipped".
std::string_view EntryKindName(EntryKind kind);

// Why an occurrence or trigger was refused, by class.
enum class RefusalReason : uint8_t {
  kNone,        // not a refusal
  kOverlap,     // the job had max_active_runs runs active (overlap policy skip, or a queue full)
  kDependency,  // a cross-job dependency (depends_on) was not met
  kPaused,      // the job or the whole scheduler was paused, or the job was removed/disabled
  kStopping,    // the scheduler was stopping
  kMissed,      // a missed occurrence the job's catch-up policy (none, latest, limit) skips
  kOther,       // anything else (see detail)
};

// "none", "overlap", "dependency", "paused", "stopping", "missed", "other".
std::string_view RefusalReasonName(RefusalReason reason);

struct TimelineEntry {
  EntryKind kind = EntryKind::kFired;
  int64_t time_us = 0;  // when it happened, on the virtual clock
  std::string job{};
  std::string run{};   // empty for a refusal of an occurrence that never had a run id
  std::string task{};  // task entries only
  uint32_t attempt = 0;
  // kFired and kRefused: the schedule occurrence (its nominal time), 0 for a manual trigger.
  int64_t occurrence_us = 0;
  // kFired and kRunStarted: "schedule", "catch_up", "manual", "retry", "recovery".
  std::string trigger{};
  // kFired: the run waits for a run slot (overlap queue, a catch-up backlog) and starts when one
  // frees, rather than at once.
  bool queued = false;
  // kRunEnded: the run's status; kAttemptEnded: the attempt's state ("succeeded", "failed",
  // "cancelled"...); kTaskSkipped: "skipped" or "upstream_failed".
  std::string status{};
  // kAttemptEnded: as the store recorded the attempt.
  std::optional<int32_t> exit_code{};
  std::string error{};
  int64_t started_us = 0;
  int64_t ended_us = 0;
  bool timed_out = false;  // the attempt ended because its timeout elapsed
  // kRetryScheduled: when the next attempt starts, and the delay from the failure to it.
  int64_t retry_at_us = 0;
  int64_t delay_us = 0;
  // kRefused: the class of the reason.
  RefusalReason reason = RefusalReason::kNone;
  // The engine's own words (refusal reason, skip reason, fire description...).
  std::string detail{};
};

// Filters for Timeline::Find; an empty or absent field matches everything.
struct TimelineQuery {
  std::string job{};
  std::string task{};
  std::optional<EntryKind> kind{};
  std::string run{};
};

class Timeline {
 public:
  Timeline() = default;
  explicit Timeline(std::vector<TimelineEntry> entries) : entries_(std::move(entries)) {}

  const std::vector<TimelineEntry>& entries() const& { return entries_; }
  // On a temporary (`harness.timeline().entries()` in a range-for), a copy that outlives it.
  std::vector<TimelineEntry> entries() && { return std::move(entries_); }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  // The entries matching `query`, in timeline order.
  std::vector<TimelineEntry> Find(const TimelineQuery& query) const;
  std::vector<TimelineEntry> Of(EntryKind kind, std::string_view job = {},
                                std::string_view task = {}) const;
  size_t Count(EntryKind kind, std::string_view job = {}, std::string_view task = {}) const;

  // Shortcuts for common assertions.
  // The occurrence times of `job`'s fires (kFired), oldest first (a catch-up backlog is announced
  // before its oldest run starts); a manual fire counts with its fire time. With `trigger`, only
  // fires of that trigger ("schedule", "catch_up", "manual").
  std::vector<int64_t> FireTimes(std::string_view job, std::string_view trigger = {}) const;
  // The triggers of `job`'s fires, in order ("schedule", "catch_up", "manual", ...).
  std::vector<std::string> FireTriggers(std::string_view job) const;
  // The delays (µs) of `task`'s retries in `job`, in order.
  std::vector<int64_t> RetryDelays(std::string_view job, std::string_view task) const;
  // The statuses of `job`'s runs as they ended, in order.
  std::vector<std::string> RunStatuses(std::string_view job) const;

  // One line per entry: "2026-11-01T05:30:00Z  fired  nightly  occurrence ... (schedule)".
  std::string ToText() const;
  // {"entries":[{"kind":"fired","time":"...","time_us":...,...},...]}
  std::string ToJson() const;

 private:
  std::vector<TimelineEntry> entries_{};
};

// "2026-11-01T05:30:00Z" (UTC, with ".123456" when there are fractions of a second).
std::string FormatTime(int64_t epoch_us);
// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)" (also with a space for the 'T'); nullopt when
// the text is not one.
std::optional<int64_t> ParseTime(std::string_view text);
// The epoch µs of a UTC date and time.
int64_t UtcMicros(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

}  // namespace petit::testing

#endif  // PETIT_TESTING_TIMELINE_H_
