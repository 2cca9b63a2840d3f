// DaemonLog: the daemon's log, one whole line per call on stderr (the journal under systemd),
// in petit.yaml's `logging:` format, of lines at or above its level.
//
// text (default): "2026-03-08T01:30:00.250Z petit: <message>", prefixed "warning: ", "error: " or
// "debug: " by level (info has none). The timestamp is printed on a terminal and in the journal
// alike, as it always was: the journal's own stamp has no milliseconds, and the same line is then
// the same wherever stderr goes. `petit trigger` leaves it out (LogOptions::timestamps).
// json: one object per line, {"time": "2026-03-08T01:30:00.250Z", "level": "info", "msg": ...}
// with "job_id", "run_id", "task_id", "attempt" and "event" (core/events.h's names) when the line
// is about one; always valid UTF-8 (an invalid byte becomes U+FFFD), whatever the message holds.
//
// Threads: every member may be called from any thread; lines never interleave.
#ifndef PETIT_HOST_RUNTIME_DAEMON_LOG_H_
#define PETIT_HOST_RUNTIME_DAEMON_LOG_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "config/global_config.h"
#include "petit/core/events.h"
#include "petit/core/log_level.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit::host {

// What a line is about; empty members are left out of the line.
struct LogFields {
  std::string job_id;
  std::string run_id;
  std::string task_id;
  uint32_t attempt = 0;    // 0: none
  std::string_view event;  // an EventTypeName, or empty
};

// A line about a job, or one of its runs (`job` may be empty when unknown).
LogFields AboutJob(const JobId& job);
LogFields AboutRun(const JobId& job, const RunId& run);

struct LogOptions {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  bool timestamps = true;  // text only; json lines always carry "time"
};

class DaemonLog {
 public:
  // Info and above, text, on stderr.
  DaemonLog();
  // `out` (stderr when null) must outlive the log.
  explicit DaemonLog(const LogOptions& options, std::ostream* out = nullptr);
  explicit DaemonLog(const LoggingConfig& config);  // petit.yaml's `logging:`, on stderr

  // Writes `message` as one line when `level` is enabled.
  void Log(LogLevel level, std::string_view message, const LogFields& fields = {}) EXCLUDES(mu_);
  void Debug(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kDebug, message, fields);
  }
  void Info(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kInfo, message, fields);
  }
  void Warn(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kWarn, message, fields);
  }
  void Error(std::string_view message, const LogFields& fields = {}) {
    Log(LogLevel::kError, message, fields);
  }
  bool Enabled(LogLevel level) const { return level >= options_.level; }

  // Info(text).
  void Line(std::string_view text) { Info(text); }
  // Each line of `text` as an Info(), without a leading "petit: " (what RecoverOnStartup prints);
  // a line starting "warning: " or "error: " is logged at that level, without the prefix.
  void Lines(const std::string& text);

 private:
  const LogOptions options_;
  std::ostream* const out_;
  Mutex mu_;  // held while a line is written
};

// The fields of a line about `event`.
LogFields FieldsOf(const Event& event);

// Logs `event` as one line: task and run transitions, schedule fires and refusals at info, a
// task queued and a run completed at debug (the run's end is logged with its duration where the
// launcher reports it). Meant as an EventBus handler.
void LogEvent(DaemonLog& log, const Event& event);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_LOG_H_
