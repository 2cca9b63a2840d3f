#include "runtime/daemon_log.h"

#include <iostream>
#include <sstream>

#include "petit/core/clock.h"
#include "petit/core/execute_run.h"
#include "petit/core/json.h"
#include "petit/core/utf8.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

std::string_view TextPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug: ";
    case LogLevel::kInfo:
      return "";
    case LogLevel::kWarn:
      return "warning: ";
    case LogLevel::kError:
      return "error: ";
  }
  return "";
}

void AppendJsonField(std::string& line, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  line += ",\"";
  line += key;
  line += "\":";
  line += JsonUtf8String(value);
}

// "job J run R task T (attempt N)": what an event is about, as the text lines say it.
std::string Subject(const Event& event) {
  std::string subject = "job " + event.job.str();
  if (!event.run.empty()) subject += " run " + event.run.str();
  if (!event.task.empty()) subject += " task " + event.task.str();
  if (event.attempt != 0) subject += " (attempt " + std::to_string(event.attempt) + ")";
  return subject;
}

}  // namespace

DaemonLog::DaemonLog() : DaemonLog(LogOptions{}) {}

DaemonLog::DaemonLog(const LogOptions& options, std::ostream* out)
    : options_(options), out_(out != nullptr ? out : &std::cerr) {}

DaemonLog::DaemonLog(const LoggingConfig& config)
    : DaemonLog(LogOptions{.level = config.level, .format = config.format}) {}

void DaemonLog::Log(LogLevel level, std::string_view message, const LogFields& fields) {
  if (!Enabled(level)) return;
  const std::string stamp = FormatLogTimestamp(SystemClock::Instance().NowMicros());
  std::string line;
  if (options_.format == LogFormat::kJson) {
    line = "{\"time\":\"" + stamp + "\",\"level\":\"" + std::string(LogLevelName(level)) +
           "\",\"msg\":" + JsonUtf8String(message);
    AppendJsonField(line, "job_id", fields.job_id);
    AppendJsonField(line, "run_id", fields.run_id);
    AppendJsonField(line, "task_id", fields.task_id);
    if (fields.attempt != 0) line += ",\"attempt\":" + std::to_string(fields.attempt);
    AppendJsonField(line, "event", fields.event);
    line += "}\n";
  } else {
    if (options_.timestamps) line = stamp + " ";
    line += "petit: ";
    line += TextPrefix(level);
    // One record per line, as a reader of the journal or a terminal needs: what a plugin or a
    // task wrote cannot forge a line or move the cursor.
    line += PrintableLine(message);
    line += "\n";
  }
  MutexLock lock(mu_);
  *out_ << line;
  out_->flush();
}

void DaemonLog::Lines(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("petit: ", 0) == 0) line.erase(0, 7);
    LogLevel level = LogLevel::kInfo;
    for (LogLevel prefixed : {LogLevel::kWarn, LogLevel::kError}) {
      const std::string_view prefix = TextPrefix(prefixed);
      if (line.rfind(prefix, 0) == 0) {
        level = prefixed;
        line.erase(0, prefix.size());
      }
    }
    Log(level, line);
  }
}

LogFields AboutJob(const JobId& job) {
  LogFields fields;
  fields.job_id = job.str();
  return fields;
}

LogFields AboutRun(const JobId& job, const RunId& run) {
  LogFields fields = AboutJob(job);
  fields.run_id = run.str();
  return fields;
}

LogFields FieldsOf(const Event& event) {
  LogFields fields;
  fields.job_id = event.job.str();
  fields.run_id = event.run.str();
  fields.task_id = event.task.str();
  fields.attempt = event.attempt;
  fields.event = EventTypeName(event.type);
  return fields;
}

void LogEvent(DaemonLog& log, const Event& event) {
  LogLevel level = LogLevel::kInfo;
  std::string what;
  switch (event.type) {
    case EventType::kTaskQueued:
      level = LogLevel::kDebug;
      what = "queued";
      break;
    case EventType::kTaskStarted:
      what = "started";
      break;
    case EventType::kTaskRetrying:
      what = "failed, retrying";
      break;
    case EventType::kTaskSucceeded:
      what = "succeeded";
      break;
    case EventType::kTaskFailed:
      what = "failed";
      break;
    case EventType::kTaskSkipped:
      what = "skipped";
      break;
    case EventType::kTaskCancelled:
      what = "cancelled";
      break;
    case EventType::kJobStarted:
      what = "started";
      break;
    case EventType::kJobCompleted:
      // The launcher logs the run's end at info, with its duration and trigger.
      level = LogLevel::kDebug;
      what = "completed";
      break;
    case EventType::kScheduleFired:
    case EventType::kTriggerRefused:
      break;
  }
  // A thread of this process is left running plugin code: the operator must hear of it.
  if (event.detail.find(kAbandonedWorkerNote) != std::string::npos) level = LogLevel::kWarn;
  if (!log.Enabled(level)) return;
  std::string message;
  if (event.type == EventType::kScheduleFired) {
    message = "job " + event.job.str() + " run " + event.run.str();  // the detail says "fired"
  } else if (event.type == EventType::kTriggerRefused) {
    message = "job " + event.job.str() + " refused";  // no run was made
  } else {
    message = Subject(event) + " " + what;
  }
  if (!event.detail.empty()) message += ": " + event.detail;
  log.Log(level, message, FieldsOf(event));
}

}  // namespace petit::host
