// The renderers of a simulated timeline (simulate_command.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
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

bool StartsRun(const Event& event) {
  return event.type == EventType::kScheduleFired &&
         event.detail.find("run started") != std::string::npos;
}

// Numbers runs 1, 2, ... in the order they first appear, so the text need not show ULIDs.
class RunNumbers {
 public:
  explicit RunNumbers(const Simulation& simulation) {
    for (const SimulatedEvent& step : simulation.events) Number(step.event.run);
  }
  uint32_t Of(const RunId& run) const {
    auto it = numbers_.find(run.str());
    return it == numbers_.end() ? 0 : it->second;
  }

 private:
  void Number(const RunId& run) {
    if (run.str().empty()) return;
    numbers_.emplace(run.str(), static_cast<uint32_t>(numbers_.size() + 1));
  }
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

Counts Count(const Simulation& simulation) {
  Counts counts;
  for (const SimulatedEvent& step : simulation.events) {
    switch (step.event.type) {
      case EventType::kScheduleFired:
        ++counts.fired;
        break;
      case EventType::kTriggerRefused:
        ++counts.refused;
        break;
      case EventType::kJobStarted:
        ++counts.runs_started;
        break;
      case EventType::kJobCompleted:
        ++counts.runs_ended[step.event.detail];
        break;
      case EventType::kTaskStarted:
        ++counts.attempts;
        break;
      case EventType::kTaskRetrying:
        ++counts.retries;
        break;
      case EventType::kTaskSkipped:
        ++counts.skipped;
        break;
      default:
        break;
    }
  }
  return counts;
}

// What one event says, after the time and subject columns; empty for events the text leaves
// out (a task queued, a run started by the fire line just above it).
std::string Describe(const SimulatedEvent& step, const std::map<std::string, int64_t>& started,
                     const ZoneFormatter& zone) {
  const Event& e = step.event;
  const std::string attempt = "attempt " + std::to_string(e.attempt);
  switch (e.type) {
    case EventType::kScheduleFired:
      return "fired: " + e.detail;
    case EventType::kTriggerRefused:
      return "not fired: " + e.detail;
    case EventType::kJobStarted:
      return e.trigger == "schedule" || e.trigger == "catch_up" ? ""
                                                                : "run started (" + e.trigger + ")";
    case EventType::kJobCompleted: {
      std::string text = "run " + e.detail;
      auto it = started.find(e.run.str());
      if (it != started.end()) text += " after " + Span(e.time_us - it->second);
      return text;
    }
    case EventType::kTaskQueued:
      return "";
    case EventType::kTaskStarted:
      return attempt + " started";
    case EventType::kTaskSucceeded:
      return attempt + " succeeded";
    case EventType::kTaskRetrying: {
      std::string text = attempt + " failed";
      text += step.injected ? " (--fail)" : "";
      if (!e.detail.empty()) text += ": " + e.detail;
      if (step.retry_at_us != 0) {
        text += "; retry in " + Span(step.retry_at_us - e.time_us) + ", at " +
                zone.Format(step.retry_at_us);
      }
      return text;
    }
    case EventType::kTaskFailed: {
      std::string text = attempt + " failed";
      text += step.injected ? " (--fail)" : "";
      if (!e.detail.empty()) text += ": " + e.detail;
      return text + "; no retry left";
    }
    case EventType::kTaskSkipped:
      return "skipped: " + e.detail;
    case EventType::kTaskCancelled:
      return "cancelled: " + e.detail;
  }
  return e.detail;
}

std::string Subject(const Event& event, const RunNumbers& runs) {
  std::string subject = event.job.str();
  if (const uint32_t n = runs.Of(event.run); n != 0) subject += " #" + std::to_string(n);
  if (!event.task.str().empty()) subject += " " + event.task.str();
  return subject;
}

}  // namespace

std::string RenderSimulationText(const Simulation& simulation) {
  const ZoneFormatter zone(simulation.zone);
  const RunNumbers runs(simulation);
  std::string out = "simulated " + std::to_string(simulation.jobs.size()) + " job" +
                    (simulation.jobs.size() == 1 ? "" : "s") + " from " +
                    zone.Format(simulation.from_us) + " until " + zone.Format(simulation.until_us) +
                    " (times in " + simulation.zone + "); no command was run\n";
  if (simulation.stopped_at_us != 0) {
    out += "petit run stopped at " + zone.Format(simulation.stopped_at_us) +
           " (--stopped-at); missed occurrences follow each job's catch_up\n";
  }
  out += "\n";
  size_t width = 0;
  for (const SimulatedEvent& step : simulation.events) {
    width = std::max(width, Subject(step.event, runs).size());
  }
  std::map<std::string, int64_t> started;  // run id -> start time
  for (const SimulatedEvent& step : simulation.events) {
    const Event& e = step.event;
    if (e.type == EventType::kJobStarted) started.emplace(e.run.str(), e.time_us);
    const std::string text = Describe(step, started, zone);
    if (text.empty()) continue;
    std::string subject = Subject(e, runs);
    subject.resize(width, ' ');
    out += zone.Format(e.time_us) + "  " + subject + "  " + text + "\n";
    const Job* job = FindJob(simulation, e.job);
    if (job == nullptr) continue;
    const std::string indent(zone.Format(e.time_us).size() + 2 + width + 2, ' ');
    if (e.type == EventType::kScheduleFired || e.type == EventType::kTriggerRefused) {
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
  const Counts counts = Count(simulation);
  out += "\n" + std::to_string(counts.fired) + " fired, " + std::to_string(counts.refused) +
         " not fired; " + std::to_string(counts.runs_started) + " runs started";
  for (const auto& [status, n] : counts.runs_ended) out += ", " + std::to_string(n) + " " + status;
  out += "; " + std::to_string(counts.attempts) + " task attempts, " +
         std::to_string(counts.retries) + " retries, " + std::to_string(counts.skipped) +
         " skipped\n";
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
  for (size_t i = 0; i < simulation.events.size(); ++i) {
    const SimulatedEvent& step = simulation.events[i];
    const Event& e = step.event;
    if (i != 0) json += ",";
    json += "{\"time\":" + JsonString(zone.Format(e.time_us)) +
            ",\"time_us\":" + std::to_string(e.time_us) +
            ",\"type\":" + JsonString(EventTypeName(e.type)) +
            ",\"job\":" + JsonUtf8String(e.job.str());
    if (!e.run.str().empty()) {
      json += ",\"run\":" + JsonString(e.run.str()) +
              ",\"run_number\":" + std::to_string(runs.Of(e.run));
    }
    if (!e.task.str().empty()) {
      json +=
          ",\"task\":" + JsonUtf8String(e.task.str()) + ",\"attempt\":" + std::to_string(e.attempt);
    }
    if (!e.trigger.empty()) json += ",\"trigger\":" + JsonUtf8String(e.trigger);
    const Job* job = FindJob(simulation, e.job);
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
    if (e.type == EventType::kTaskRetrying && step.retry_at_us != 0) {
      json += ",\"retry_at\":" + JsonString(zone.Format(step.retry_at_us)) +
              ",\"retry_delay_us\":" + std::to_string(step.retry_at_us - e.time_us);
    }
    if (e.type == EventType::kTaskRetrying || e.type == EventType::kTaskFailed) {
      json += std::string(",\"injected\":") + (step.injected ? "true" : "false");
    }
    if (StartsRun(e) && job != nullptr && !job->depends_on.empty()) {
      json += ",\"dependencies_met\":true";
    }
    json += ",\"detail\":" + JsonUtf8String(e.detail) + "}";
  }
  const Counts counts = Count(simulation);
  json += "],\"summary\":{\"fired\":" + std::to_string(counts.fired) +
          ",\"not_fired\":" + std::to_string(counts.refused) +
          ",\"runs_started\":" + std::to_string(counts.runs_started) + ",\"runs_ended\":{";
  bool first = true;
  for (const auto& [status, n] : counts.runs_ended) {
    json += (first ? "" : ",") + JsonUtf8String(status) + ":" + std::to_string(n);
    first = false;
  }
  json += "},\"task_attempts\":" + std::to_string(counts.attempts) +
          ",\"retries\":" + std::to_string(counts.retries) +
          ",\"skipped\":" + std::to_string(counts.skipped) + "}}\n";
  return json;
}

}  // namespace petit::host
