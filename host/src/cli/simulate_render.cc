// The renderers of a simulated timeline (simulate_command.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/simulate_command.h"
#include "petit/core/json.h"
#include "petit/core/schedule.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Formats instants in one zone. Only Schedule knows zones, so it borrows one that never fires.
class ZoneFormatter {
 public:
  explicit ZoneFormatter(const std::string& zone) {
    Result<Schedule> schedule = Schedule::Parse("@daily", zone);
    if (schedule.ok()) schedule_ = *schedule;
  }
  std::string Format(int64_t t_us) const {
    return schedule_ ? schedule_->FormatLocal(t_us) : FormatTime(t_us);
  }

 private:
  std::optional<Schedule> schedule_;
};

// "-04:00"
std::string Offset(int64_t seconds) {
  const int64_t magnitude = seconds < 0 ? -seconds : seconds;
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%c%02lld:%02lld", seconds < 0 ? '-' : '+',
                static_cast<long long>(magnitude / 3600),
                static_cast<long long>(magnitude / 60 % 60));
  return buffer;
}

// Local wall seconds as "2026-11-01" and "01:30" (":SS" only when not 0).
std::string WallDate(int64_t wall_seconds) {
  return FormatTime(wall_seconds * kMicrosPerSecond).substr(0, 10);
}
std::string WallClock(int64_t wall_seconds) {
  const int64_t second_of_day = ((wall_seconds % kSecondsPerDay) + kSecondsPerDay) % kSecondsPerDay;
  char buffer[48];
  if (second_of_day % 60 == 0) {
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld",
                  static_cast<long long>(second_of_day / 3600),
                  static_cast<long long>(second_of_day / 60 % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%02lld:%02lld:%02lld",
                  static_cast<long long>(second_of_day / 3600),
                  static_cast<long long>(second_of_day / 60 % 60),
                  static_cast<long long>(second_of_day % 60));
  }
  return buffer;
}

// A span in --duration's own syntax: "2s", "3m2s", "1h30m", "250ms", "0s".
std::string Span(int64_t micros) {
  if (micros <= 0) return "0s";
  static constexpr struct {
    std::string_view unit;
    int64_t micros;
  } kUnits[] = {{"d", kSecondsPerDay * kMicrosPerSecond},
                {"h", 3600 * kMicrosPerSecond},
                {"m", 60 * kMicrosPerSecond},
                {"s", kMicrosPerSecond},
                {"ms", 1000}};
  std::string out;
  for (const auto& unit : kUnits) {
    if (micros < unit.micros) continue;
    out += std::to_string(micros / unit.micros) + std::string(unit.unit);
    micros %= unit.micros;
  }
  return out.empty() ? std::to_string(micros) + "us" : out;
}

const Job* FindJob(const Simulation& simulation, const JobId& id) {
  for (const std::shared_ptr<const Job>& job : simulation.jobs) {
    if (job->id == id) return job.get();
  }
  return nullptr;
}

// What the DST rule did to the occurrence of a fire, in one sentence; empty when nothing.
std::string DstSentence(const Job& job, int64_t occurrence_us) {
  if (!job.schedule || occurrence_us == 0) return "";
  const DstNote note = job.schedule->ExplainFire(occurrence_us);
  const std::string zone = job.schedule->time_zone();
  switch (note.kind) {
    case DstNote::Kind::kNone:
      return "";
    case DstNote::Kind::kFold:
      return WallClock(note.wall_seconds) + " happens twice on " + WallDate(note.wall_seconds) +
             " in " + zone + " (at " + Offset(note.offset_before_seconds) + ", then at " +
             Offset(note.offset_after_seconds) + " after clocks go back); fired once, at " +
             Offset(note.offset_before_seconds);
    case DstNote::Kind::kGap: {
      std::string matched = WallClock(note.wall_seconds);
      if (note.wall_times > 1) {
        matched += " and " + std::to_string(note.wall_times - 1) + " more wall time" +
                   (note.wall_times > 2 ? "s" : "") + " of the gap";
      }
      const int64_t fire = occurrence_us / kMicrosPerSecond;
      const int64_t gap_end = fire + note.offset_after_seconds;
      return matched + " does not exist on " + WallDate(note.wall_seconds) + " in " + zone +
             " (clocks jump from " + WallClock(fire + note.offset_before_seconds) + " " +
             Offset(note.offset_before_seconds) + " to " + WallClock(gap_end) + " " +
             Offset(note.offset_after_seconds) + "); fired once, at " + WallClock(gap_end) +
             Offset(note.offset_after_seconds) + ", the end of the gap";
    }
  }
  return "";
}

std::string_view DstKindName(DstNote::Kind kind) {
  switch (kind) {
    case DstNote::Kind::kNone:
      return "none";
    case DstNote::Kind::kGap:
      return "gap";
    case DstNote::Kind::kFold:
      return "fold";
  }
  return "none";
}

// The job's cross-job dependencies, each as "JOB (condition)"; they held when a run started.
std::vector<std::string> Dependencies(const Job& job) {
  std::vector<std::string> out;
  for (const JobDependency& dependency : job.depends_on) {
    std::string text =
        dependency.job.str() + " (" + std::string(JobDependencyConditionName(dependency.condition));
    if (dependency.condition == JobDependency::Condition::kWithinWindow) {
      text += " " + std::to_string(dependency.window.count()) + " s";
    }
    out.push_back(text + ")");
  }
  return out;
}

using testing::EntryKind;
using testing::TimelineEntry;

bool StartsRun(const TimelineEntry& entry) {
  return entry.kind == EntryKind::kFired && entry.detail.find("run started") != std::string::npos;
}

// Numbers runs 1, 2, ... in the order they first appear, so the text need not show run ids.
class RunNumbers {
 public:
  // A refused occurrence's run id never names a run: only fired or started runs are numbered.
  explicit RunNumbers(const Simulation& simulation) {
    for (const TimelineEntry& entry : simulation.timeline.entries()) {
      if (!entry.run.empty() && entry.kind != EntryKind::kRefused) {
        numbers_.emplace(entry.run, static_cast<uint32_t>(numbers_.size() + 1));
      }
    }
  }
  uint32_t Of(const std::string& run) const {
    auto it = numbers_.find(run);
    return it == numbers_.end() ? 0 : it->second;
  }
  // `text` with the ids of numbered runs (36-character UUIDs) written "#N".
  std::string Replace(const std::string& text) const {
    constexpr size_t kUuidLength = 36;
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (i + kUuidLength <= text.size() && text[i + 8] == '-' && text[i + 13] == '-') {
        if (const uint32_t n = Of(text.substr(i, kUuidLength)); n != 0) {
          out += "#" + std::to_string(n);
          i += kUuidLength;
          continue;
        }
      }
      out += text[i++];
    }
    return out;
  }

 private:
  std::map<std::string, uint32_t> numbers_;
};

struct Counts {
  uint32_t fired = 0;
  uint32_t refused = 0;
  uint32_t runs_started = 0;
  std::map<std::string, uint32_t> runs_ended;  // by final status
  uint32_t attempts = 0;
  uint32_t retries = 0;
  uint32_t skipped = 0;
};

Counts CountEntries(const Simulation& simulation) {
  Counts counts;
  for (const TimelineEntry& entry : simulation.timeline.entries()) {
    switch (entry.kind) {
      case EntryKind::kFired:
        ++counts.fired;
        break;
      case EntryKind::kRefused:
        ++counts.refused;
        break;
      case EntryKind::kRunStarted:
        ++counts.runs_started;
        break;
      case EntryKind::kRunEnded:
        ++counts.runs_ended[entry.status];
        break;
      case EntryKind::kAttemptStarted:
        ++counts.attempts;
        break;
      case EntryKind::kRetryScheduled:
        ++counts.retries;
        break;
      case EntryKind::kTaskSkipped:
        ++counts.skipped;
        break;
      case EntryKind::kAttemptEnded:
        break;
    }
  }
  return counts;
}

std::string AttemptKey(const TimelineEntry& entry) {
  return entry.run + "\n" + entry.task + "\n" + std::to_string(entry.attempt);
}

// What one entry says after the time and subject columns; empty for entries the text leaves out
// (a run started by the fire line just above it).
std::string Describe(const TimelineEntry& e, const std::map<std::string, int64_t>& started,
                     const std::set<std::string>& retried, const RunNumbers& runs,
                     const ZoneFormatter& zone) {
  const std::string attempt = "attempt " + std::to_string(e.attempt);
  switch (e.kind) {
    case EntryKind::kFired:
      return "fired: " + e.detail;
    case EntryKind::kRefused:
      return "not fired (" + std::string(testing::RefusalReasonName(e.reason)) +
             "): " + runs.Replace(e.detail);
    case EntryKind::kRunStarted:
      return e.trigger == "schedule" || e.trigger == "catch_up" ? ""
                                                                : "run started (" + e.trigger + ")";
    case EntryKind::kRunEnded: {
      std::string text = "run " + e.status;
      auto it = started.find(e.run);
      if (it != started.end()) text += " after " + Span(e.time_us - it->second);
      return text;
    }
    case EntryKind::kAttemptStarted:
      return attempt + " started";
    case EntryKind::kAttemptEnded: {
      std::string text = attempt + " " + e.status;
      if (e.started_us != 0 && e.ended_us > e.started_us) {
        text += " after " + Span(e.ended_us - e.started_us);
      }
      if (e.exit_code && *e.exit_code != 0)
        text += " (exit code " + std::to_string(*e.exit_code) + ")";
      if (!e.error.empty()) text += ": " + e.error;
      if (e.status == "failed" && retried.count(AttemptKey(e)) == 0) text += "; no retry left";
      return text;
    }
    case EntryKind::kRetryScheduled:
      return "attempt " + std::to_string(e.attempt + 1) + " in " + Span(e.delay_us) + ", at " +
             zone.Format(e.retry_at_us) + " (retry delay)";
    case EntryKind::kTaskSkipped:
      return e.status + ": " + e.detail;
  }
  return e.detail;
}

std::string Subject(const TimelineEntry& entry, const RunNumbers& runs) {
  std::string subject = entry.job;
  if (const uint32_t n = runs.Of(entry.run); n != 0) subject += " #" + std::to_string(n);
  if (!entry.task.empty()) subject += " " + entry.task;
  return subject;
}

std::string Plural(size_t n, std::string_view word, std::string_view plural = {}) {
  if (n == 1) return "1 " + std::string(word);
  return std::to_string(n) + " " + (plural.empty() ? std::string(word) + "s" : std::string(plural));
}

}  // namespace

std::string RenderSimulationText(const Simulation& simulation) {
  const ZoneFormatter zone(simulation.zone);
  const RunNumbers runs(simulation);
  const std::vector<TimelineEntry>& entries = simulation.timeline.entries();
  std::string out = "simulated " + Plural(simulation.jobs.size(), "job") + " from " +
                    zone.Format(simulation.from_us) + " until " + zone.Format(simulation.until_us) +
                    " (times in " + simulation.zone + "); no command was run\n";
  if (simulation.stopped_at_us != 0) {
    out += "petit run stopped at " + zone.Format(simulation.stopped_at_us) +
           " (--stopped-at) and starts again at --from: what it missed follows each job's "
           "catch_up\n";
  }
  out += "\n";
  size_t width = 0;
  std::set<std::string> retried;
  for (const TimelineEntry& entry : entries) {
    width = std::max(width, Subject(entry, runs).size());
    if (entry.kind == EntryKind::kRetryScheduled) retried.insert(AttemptKey(entry));
  }
  std::map<std::string, int64_t> started;  // run id -> start time
  for (const TimelineEntry& e : entries) {
    if (e.kind == EntryKind::kRunStarted) started.emplace(e.run, e.time_us);
    const std::string text = Describe(e, started, retried, runs, zone);
    if (text.empty()) continue;
    std::string subject = Subject(e, runs);
    subject.resize(width, ' ');
    const std::string time = zone.Format(e.time_us);
    out += time + "  " + subject + "  " + text + "\n";
    const Job* job = FindJob(simulation, JobId(e.job));
    if (job == nullptr) continue;
    const std::string indent(time.size() + 2 + width + 2, ' ');
    if (e.kind == EntryKind::kFired || e.kind == EntryKind::kRefused) {
      if (std::string dst = DstSentence(*job, e.occurrence_us); !dst.empty()) {
        out += indent + "DST: " + dst + "\n";
      }
    }
    if (StartsRun(e)) {
      for (const std::string& dependency : Dependencies(*job)) {
        out += indent + "depends on " + dependency + ": met\n";
      }
    }
  }
  const Counts counts = CountEntries(simulation);
  out += "\n" + std::to_string(counts.fired) + " fired, " + std::to_string(counts.refused) +
         " not fired; " + Plural(counts.runs_started, "run") + " started";
  for (const auto& [status, n] : counts.runs_ended) out += ", " + std::to_string(n) + " " + status;
  if (simulation.active_at_until != 0) {
    out += ", " + std::to_string(simulation.active_at_until) + " still running at --until";
  }
  out += "; " + Plural(counts.attempts, "task attempt") + ", " +
         Plural(counts.retries, "retry", "retries") + ", " + std::to_string(counts.skipped) +
         " not run\n";
  return out;
}

std::string RenderSimulationJson(const Simulation& simulation) {
  const ZoneFormatter zone(simulation.zone);
  const RunNumbers runs(simulation);
  std::string json =
      "{\"from\":" + JsonString(zone.Format(simulation.from_us)) +
      ",\"until\":" + JsonString(zone.Format(simulation.until_us)) +
      ",\"zone\":" + JsonUtf8String(simulation.zone) + ",\"stopped_at\":" +
      (simulation.stopped_at_us != 0 ? JsonString(zone.Format(simulation.stopped_at_us))
                                     : std::string("null")) +
      ",\"jobs\":[";
  for (size_t i = 0; i < simulation.jobs.size(); ++i) {
    const Job& job = *simulation.jobs[i];
    if (i != 0) json += ",";
    json += "{\"id\":" + JsonUtf8String(job.id.str()) + ",\"schedule\":" +
            (job.schedule ? JsonUtf8String(job.schedule->expression()) : "null") +
            ",\"timezone\":" + (job.schedule ? JsonUtf8String(job.schedule->time_zone()) : "null") +
            ",\"depends_on\":[";
    const std::vector<std::string> dependencies = Dependencies(job);
    for (size_t d = 0; d < dependencies.size(); ++d) {
      json += (d != 0 ? "," : "") + JsonUtf8String(dependencies[d]);
    }
    json += "]}";
  }
  json += "],\"events\":[";
  bool first_entry = true;
  for (const TimelineEntry& e : simulation.timeline.entries()) {
    if (!first_entry) json += ",";
    first_entry = false;
    json += "{\"time\":" + JsonString(zone.Format(e.time_us)) +
            ",\"time_us\":" + std::to_string(e.time_us) +
            ",\"kind\":" + JsonString(testing::EntryKindName(e.kind)) +
            ",\"job\":" + JsonUtf8String(e.job);
    if (!e.run.empty()) json += ",\"run\":" + JsonUtf8String(e.run);
    if (const uint32_t n = runs.Of(e.run); n != 0) json += ",\"run_number\":" + std::to_string(n);
    if (!e.task.empty()) json += ",\"task\":" + JsonUtf8String(e.task);
    if (e.attempt != 0) json += ",\"attempt\":" + std::to_string(e.attempt);
    if (!e.trigger.empty()) json += ",\"trigger\":" + JsonUtf8String(e.trigger);
    if (!e.status.empty()) json += ",\"status\":" + JsonUtf8String(e.status);
    if (e.kind == EntryKind::kRefused) {
      json += ",\"reason\":" + JsonString(testing::RefusalReasonName(e.reason));
    }
    const Job* job = FindJob(simulation, JobId(e.job));
    if (e.occurrence_us != 0 && job != nullptr && job->schedule) {
      json += ",\"occurrence\":" + JsonString(job->schedule->FormatLocal(e.occurrence_us));
      const DstNote note = job->schedule->ExplainFire(e.occurrence_us);
      if (note.kind != DstNote::Kind::kNone) {
        json += ",\"dst\":{\"kind\":" + JsonString(DstKindName(note.kind)) + ",\"wall_time\":" +
                JsonString(FormatTime(note.wall_seconds * kMicrosPerSecond).substr(0, 19)) +
                ",\"offset_before\":" + JsonString(Offset(note.offset_before_seconds)) +
                ",\"offset_after\":" + JsonString(Offset(note.offset_after_seconds));
        if (note.kind == DstNote::Kind::kGap) {
          json += ",\"wall_times\":" + std::to_string(note.wall_times);
        }
        json += ",\"note\":" + JsonUtf8String(DstSentence(*job, e.occurrence_us)) + "}";
      }
    }
    if (e.kind == EntryKind::kAttemptEnded) {
      if (e.exit_code) json += ",\"exit_code\":" + std::to_string(*e.exit_code);
      if (e.started_us != 0) {
        json +=
            ",\"duration_us\":" + std::to_string(std::max<int64_t>(0, e.ended_us - e.started_us));
      }
      json += std::string(",\"timed_out\":") + (e.timed_out ? "true" : "false");
      if (!e.error.empty()) json += ",\"error\":" + JsonUtf8String(e.error);
    }
    if (e.kind == EntryKind::kRetryScheduled) {
      json += ",\"retry_at\":" + JsonString(zone.Format(e.retry_at_us)) +
              ",\"delay_us\":" + std::to_string(e.delay_us);
    }
    if (StartsRun(e) && job != nullptr && !job->depends_on.empty()) {
      json += ",\"dependencies_met\":true";
    }
    json += ",\"detail\":" + JsonUtf8String(e.detail) + "}";
  }
  const Counts counts = CountEntries(simulation);
  json += "],\"summary\":{\"fired\":" + std::to_string(counts.fired) +
          ",\"not_fired\":" + std::to_string(counts.refused) +
          ",\"runs_started\":" + std::to_string(counts.runs_started) + ",\"runs_ended\":{";
  bool first = true;
  for (const auto& [status, n] : counts.runs_ended) {
    json += (first ? "" : ",") + JsonUtf8String(status) + ":" + std::to_string(n);
    first = false;
  }
  json += "},\"still_running\":" + std::to_string(simulation.active_at_until) +
          ",\"task_attempts\":" + std::to_string(counts.attempts) +
          ",\"retries\":" + std::to_string(counts.retries) +
          ",\"not_run\":" + std::to_string(counts.skipped) + "}}\n";
  return json;
}

}  // namespace petit::host
