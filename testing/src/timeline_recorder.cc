#include "timeline_recorder.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "petit/core/states.h"

namespace petit::testing::internal {

RefusalReason ClassifyRefusal(std::string_view detail) {
  const auto has = [&](std::string_view what) { return detail.find(what) != std::string::npos; };
  // The order matters: a dependency message may quote a run's state, a catch-up message names
  // the policy.
  if (has("dependency on job")) return RefusalReason::kDependency;
  if (has("catch_up")) return RefusalReason::kMissed;
  if (has("stopping")) return RefusalReason::kStopping;
  if (has("paused") || has("was removed") || has("disabled")) return RefusalReason::kPaused;
  if (has("max_active_runs") || has("already waits") || has("overlap") || has("active run") ||
      has("occurrence already has run")) {
    return RefusalReason::kOverlap;
  }
  return RefusalReason::kOther;
}

void TimelineRecorder::OnEvent(const Event& event) {
  MutexLock lock(mu_);
  events_.push_back(event);
}

void TimelineRecorder::AddRetry(const std::string& run, const std::string& task, uint32_t attempt,
                                int64_t retry_at_us) {
  MutexLock lock(mu_);
  retry_at_[AttemptKey{run, task, attempt}] = retry_at_us;
}

Timeline TimelineRecorder::Build(StateStore& store) {
  std::vector<Event> events;
  std::map<AttemptKey, int64_t> retry_at;
  {
    MutexLock lock(mu_);
    events = events_;
    retry_at = retry_at_;
  }
  // The store's record of every attempt of the runs the events name.
  std::map<AttemptKey, AttemptRecord> attempts;
  std::map<std::string, bool> listed;
  const auto attempt_of = [&](const Event& event) -> const AttemptRecord* {
    const std::string& run = event.run.str();
    if (!listed[run]) {
      listed[run] = true;
      Result<std::vector<AttemptRecord>> records = store.ListAttempts(event.run);
      if (records.ok()) {
        for (AttemptRecord& record : *records) {
          AttemptKey key{run, record.task.str(), record.attempt};
          attempts.emplace(std::move(key), std::move(record));
        }
      }
    }
    auto it = attempts.find(AttemptKey{run, event.task.str(), event.attempt});
    return it == attempts.end() ? nullptr : &it->second;
  };

  std::vector<TimelineEntry> entries;
  entries.reserve(events.size());
  for (const Event& event : events) {
    TimelineEntry entry;
    entry.time_us = event.time_us;
    entry.job = event.job.str();
    entry.run = event.run.str();
    entry.task = event.task.str();
    entry.attempt = event.attempt;
    entry.detail = event.detail;
    switch (event.type) {
      case EventType::kScheduleFired:
        entry.kind = EntryKind::kFired;
        entry.occurrence_us = event.occurrence_us;
        entry.trigger = event.trigger;
        entry.queued = event.detail.find("): run waits") != std::string::npos;
        break;
      case EventType::kTriggerRefused:
        entry.kind = EntryKind::kRefused;
        entry.occurrence_us = event.occurrence_us;
        entry.reason = ClassifyRefusal(event.detail);
        break;
      case EventType::kJobStarted:
        entry.kind = EntryKind::kRunStarted;
        entry.trigger = event.trigger;
        // The scheduler announces the runs of occurrences (kScheduleFired), not those of manual
        // triggers: their start stands for their fire. A retry or a recovery is no fire.
        if (entry.trigger != "schedule" && entry.trigger != "catch_up" &&
            entry.trigger != "retry" && entry.trigger != "recovery" &&
            event.detail.rfind("retry", 0) != 0) {
          TimelineEntry fired = entry;
          fired.kind = EntryKind::kFired;
          fired.detail = "triggered (" + entry.trigger + ")";
          entries.push_back(std::move(fired));
        }
        break;
      case EventType::kJobCompleted:
        entry.kind = EntryKind::kRunEnded;
        entry.status = event.detail;
        break;
      case EventType::kTaskQueued:
        continue;  // waiting for a slot: the attempt's start says when it ran
      case EventType::kTaskStarted:
        entry.kind = EntryKind::kAttemptStarted;
        break;
      case EventType::kTaskSucceeded:
      case EventType::kTaskFailed:
      case EventType::kTaskRetrying:
      case EventType::kTaskSkipped:
      case EventType::kTaskCancelled: {
        const AttemptRecord* record = attempt_of(event);
        const bool ran = record != nullptr && record->started_us != 0;
        if (event.type == EventType::kTaskSkipped ||
            (event.type == EventType::kTaskCancelled && !ran)) {
          entry.kind = EntryKind::kTaskSkipped;
          entry.status = record != nullptr
                             ? std::string(TaskStateName(record->state))
                             : (event.type == EventType::kTaskSkipped ? "skipped" : "cancelled");
          break;
        }
        entry.kind = EntryKind::kAttemptEnded;
        if (record != nullptr) {
          entry.status = std::string(TaskStateName(record->state));
          entry.exit_code = record->exit_code;
          entry.error = record->error;
          entry.started_us = record->started_us;
          entry.ended_us = record->ended_us;
        } else {
          entry.status = event.type == EventType::kTaskSucceeded ? "succeeded" : "failed";
          entry.error = event.detail;
        }
        entry.timed_out = entry.error.rfind("timed out", 0) == 0;
        if (event.type != EventType::kTaskRetrying) break;
        entries.push_back(entry);
        // The failed attempt, then the retry the engine scheduled for it.
        TimelineEntry retry;
        retry.kind = EntryKind::kRetryScheduled;
        retry.time_us = event.time_us;
        retry.job = entry.job;
        retry.run = entry.run;
        retry.task = entry.task;
        retry.attempt = event.attempt;
        auto at = retry_at.find(AttemptKey{entry.run, entry.task, event.attempt});
        if (at != retry_at.end()) {
          retry.retry_at_us = at->second;
          const int64_t failed_at = entry.ended_us != 0 ? entry.ended_us : event.time_us;
          retry.delay_us = at->second - failed_at;
        }
        retry.detail = event.detail;
        entry = std::move(retry);
        break;
      }
      default:
        continue;
    }
    entries.push_back(std::move(entry));
  }
  // The scheduler announces a run it started (kScheduleFired) once the launch returned, while the
  // run's own thread may already have said it started: the fire goes first.
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].kind != EntryKind::kFired || entries[i].run.empty()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (entries[j].kind == EntryKind::kRunStarted && entries[j].run == entries[i].run) {
        std::rotate(entries.begin() + static_cast<std::ptrdiff_t>(j),
                    entries.begin() + static_cast<std::ptrdiff_t>(i),
                    entries.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        break;
      }
    }
  }
  return Timeline(std::move(entries));
}

}  // namespace petit::testing::internal
