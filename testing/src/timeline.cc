#include "petit/testing/timeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "petit/core/json.h"

namespace petit::testing {
namespace {

bool Matches(const TimelineEntry& entry, std::string_view job, std::string_view task,
             std::optional<EntryKind> kind, std::string_view run) {
  return (job.empty() || entry.job == job) && (task.empty() || entry.task == task) &&
         (!kind || entry.kind == *kind) && (run.empty() || entry.run == run);
}

// Timeline JSON is read by other programs: always valid UTF-8 (core's escaper for `--json`).
void AppendUtf8Json(std::string& out, std::string_view text) {
  out += '"';
  AppendJsonUtf8Escaped(out, text);
  out += '"';
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kFired:
      return "fired";
    case EntryKind::kRefused:
      return "refused";
    case EntryKind::kRunStarted:
      return "run_started";
    case EntryKind::kRunEnded:
      return "run_ended";
    case EntryKind::kAttemptStarted:
      return "attempt_started";
    case EntryKind::kAttemptEnded:
      return "attempt_ended";
    case EntryKind::kRetryScheduled:
      return "retry_scheduled";
    case EntryKind::kTaskSkipped:
      return "task_skipped";
  }
  return "unknown";
}

std::string_view RefusalReasonName(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kNone:
      return "none";
    case RefusalReason::kOverlap:
      return "overlap";
    case RefusalReason::kDependency:
      return "dependency";
    case RefusalReason::kPaused:
      return "paused";
    case RefusalReason::kStopping:
      return "stopping";
    case RefusalReason::kMissed:
      return "missed";
    case RefusalReason::kOther:
      return "other";
  }
  return "unknown";
}

std::vector<TimelineEntry> Timeline::Find(const TimelineQuery& query) const {
  std::vector<TimelineEntry> found;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, query.job, query.task, query.kind, query.run)) found.push_back(entry);
  }
  return found;
}

std::vector<TimelineEntry> Timeline::Of(EntryKind kind, std::string_view job,
                                        std::string_view task) const {
  std::vector<TimelineEntry> found;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, job, task, kind, {})) found.push_back(entry);
  }
  return found;
}

size_t Timeline::Count(EntryKind kind, std::string_view job, std::string_view task) const {
  size_t count = 0;
  for (const TimelineEntry& entry : entries_) count += Matches(entry, job, task, kind, {}) ? 1 : 0;
  return count;
}

std::vector<int64_t> Timeline::FireTimes(std::string_view job, std::string_view trigger) const {
  std::vector<int64_t> times;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, job, {}, EntryKind::kFired, {}) &&
        (trigger.empty() || entry.trigger == trigger)) {
      times.push_back(entry.occurrence_us != 0 ? entry.occurrence_us : entry.time_us);
    }
  }
  std::stable_sort(times.begin(), times.end());
  return times;
}

std::vector<std::string> Timeline::FireTriggers(std::string_view job) const {
  std::vector<std::string> triggers;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, job, {}, EntryKind::kFired, {})) triggers.push_back(entry.trigger);
  }
  return triggers;
}

std::vector<int64_t> Timeline::RetryDelays(std::string_view job, std::string_view task) const {
  std::vector<int64_t> delays;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, job, task, EntryKind::kRetryScheduled, {})) delays.push_back(entry.delay_us);
  }
  return delays;
}

std::vector<std::string> Timeline::RunStatuses(std::string_view job) const {
  std::vector<std::string> statuses;
  for (const TimelineEntry& entry : entries_) {
    if (Matches(entry, job, {}, EntryKind::kRunEnded, {})) statuses.push_back(entry.status);
  }
  return statuses;
}

std::string Timeline::ToText() const {
  std::string out;
  for (const TimelineEntry& e : entries_) {
    out += FormatTime(e.time_us);
    out += "  ";
    std::string kind(EntryKindName(e.kind));
    kind.resize(std::max<size_t>(kind.size(), 15), ' ');
    out += kind;
    out += "  ";
    out += e.job;
    if (!e.task.empty()) out += "." + e.task;
    if (e.attempt != 0) out += " #" + std::to_string(e.attempt);
    switch (e.kind) {
      case EntryKind::kFired:
        out += "  " + e.trigger;
        if (e.occurrence_us != 0) out += " occurrence " + FormatTime(e.occurrence_us);
        if (e.queued) out += " (waits for a run slot)";
        break;
      case EntryKind::kRefused:
        out += "  " + std::string(RefusalReasonName(e.reason)) + ": " + e.detail;
        break;
      case EntryKind::kRunStarted:
        out += "  run " + e.run + " (" + e.trigger + ")";
        break;
      case EntryKind::kRunEnded:
        out += "  run " + e.run + " " + e.status;
        break;
      case EntryKind::kAttemptStarted:
        break;
      case EntryKind::kAttemptEnded:
        out += "  " + e.status;
        if (e.exit_code) out += " exit " + std::to_string(*e.exit_code);
        if (e.timed_out) out += " (timed out)";
        if (e.started_us != 0 && e.ended_us >= e.started_us) {
          out += " after " + std::to_string((e.ended_us - e.started_us) / 1000) + " ms";
        }
        if (!e.error.empty()) out += ": " + e.error;
        break;
      case EntryKind::kRetryScheduled:
        out += "  retry at " + FormatTime(e.retry_at_us) + " (delay " +
               std::to_string(e.delay_us / 1000) + " ms)";
        break;
      case EntryKind::kTaskSkipped:
        out += "  " + e.status + ": " + e.detail;
        break;
    }
    out += '\n';
  }
  return out;
}

std::string Timeline::ToJson() const {
  std::string out = "{\"entries\":[";
  bool first = true;
  for (const TimelineEntry& e : entries_) {
    if (!first) out += ',';
    first = false;
    out += "{\"kind\":";
    AppendUtf8Json(out, EntryKindName(e.kind));
    out += ",\"time\":";
    AppendUtf8Json(out, FormatTime(e.time_us));
    out += ",\"time_us\":" + std::to_string(e.time_us);
    out += ",\"job\":";
    AppendUtf8Json(out, e.job);
    if (!e.run.empty()) {
      out += ",\"run\":";
      AppendUtf8Json(out, e.run);
    }
    if (!e.task.empty()) {
      out += ",\"task\":";
      AppendUtf8Json(out, e.task);
    }
    if (e.attempt != 0) out += ",\"attempt\":" + std::to_string(e.attempt);
    if (e.occurrence_us != 0) {
      out += ",\"occurrence\":";
      AppendUtf8Json(out, FormatTime(e.occurrence_us));
      out += ",\"occurrence_us\":" + std::to_string(e.occurrence_us);
    }
    if (!e.trigger.empty()) {
      out += ",\"trigger\":";
      AppendUtf8Json(out, e.trigger);
    }
    if (e.kind == EntryKind::kFired)
      out += std::string(",\"queued\":") + (e.queued ? "true" : "false");
    if (!e.status.empty()) {
      out += ",\"status\":";
      AppendUtf8Json(out, e.status);
    }
    if (e.exit_code) out += ",\"exit_code\":" + std::to_string(*e.exit_code);
    if (!e.error.empty()) {
      out += ",\"error\":";
      AppendUtf8Json(out, e.error);
    }
    if (e.kind == EntryKind::kAttemptEnded) {
      out += ",\"started_us\":" + std::to_string(e.started_us);
      out += ",\"ended_us\":" + std::to_string(e.ended_us);
      out += std::string(",\"timed_out\":") + (e.timed_out ? "true" : "false");
    }
    if (e.kind == EntryKind::kRetryScheduled) {
      out += ",\"retry_at_us\":" + std::to_string(e.retry_at_us);
      out += ",\"delay_us\":" + std::to_string(e.delay_us);
    }
    if (e.kind == EntryKind::kRefused) {
      out += ",\"reason\":";
      AppendUtf8Json(out, RefusalReasonName(e.reason));
    }
    if (!e.detail.empty()) {
      out += ",\"detail\":";
      AppendUtf8Json(out, e.detail);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::string FormatTime(int64_t epoch_us) {
  int64_t days = epoch_us / 86'400'000'000;
  int64_t rest = epoch_us % 86'400'000'000;
  if (rest < 0) {
    rest += 86'400'000'000;
    --days;
  }
  // civil_from_days
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  const int64_t secs = rest / 1'000'000;
  const int64_t micros = rest % 1'000'000;
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out(text);
  if (micros != 0) {
    std::snprintf(text, sizeof text, ".%06lld", static_cast<long long>(micros));
    out += text;
  }
  return out + "Z";
}

int64_t UtcMicros(int year, int month, int day, int hour, int minute, int second) {
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000'000 + int64_t{second} * 1'000'000;
}

std::optional<int64_t> ParseTime(std::string_view text) {
  size_t pos = 0;
  const auto number = [&](size_t digits, int& out) {
    if (pos + digits > text.size()) return false;
    int value = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    pos += digits;
    out = value;
    return true;
  };
  const auto expect = [&](std::string_view chars) {
    if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
    ++pos;
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !expect("-") || !number(2, month) || !expect("-") || !number(2, day) ||
      !expect("T ") || !number(2, hour) || !expect(":") || !number(2, minute) || !expect(":") ||
      !number(2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale > 0) micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset_us = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!number(2, oh) || !expect(":") || !number(2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_us = sign * (int64_t{oh} * 3600 + om * 60) * 1'000'000;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  return UtcMicros(year, month, day, hour, minute, second) + micros - offset_us;
}

}  // namespace petit::testing
