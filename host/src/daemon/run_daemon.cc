#include "daemon/run_daemon.h"

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "cli/cli.h"
#include "cli/recovery.h"
#include "cli/signal_canceller.h"
#include "daemon/thread_run_launcher.h"
#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/scheduler.h"

namespace petit::host {
namespace {

// One line per call, whole, timestamped: run threads, the event thread and the main thread all
// write here.
class DaemonLog {
 public:
  void Line(std::string_view text) {
    const std::string stamp = Timestamp(SystemClock::Instance().NowMicros());
    std::lock_guard lock(mu_);
    std::cerr << stamp << " petit: " << text << "\n";
    std::cerr.flush();
  }

  static std::string Timestamp(int64_t micros) {
    const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[48];
    const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ",
                  static_cast<int>(micros / 1000 % 1000));
    return buffer;
  }

 private:
  std::mutex mu_;
};

std::string Duration(int64_t micros) {
  char buffer[32];
  if (micros < 1000000) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(micros) / 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(micros) / 1e6);
  }
  return buffer;
}

std::string_view SignalName(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "a signal";
  }
}

void LogRunEnd(DaemonLog& log, const RunRequest& request, const Result<RunRecord>& result) {
  std::string line = "job " + request.job->id.str() + " run " + request.run_id.str();
  if (!result.ok()) {
    log.Line(line + " could not run (trigger " + request.trigger +
             "): " + result.status().message());
    return;
  }
  line += " ended: " + std::string(RunStatusName(result->status)) + " in " +
          Duration(result->ended_us - result->started_us) + " (trigger " + request.trigger + ")";
  if (!result->error.empty()) line += ": " + result->error;
  log.Line(line);
}

void LogEvent(DaemonLog& log, const Event& event) {
  if (event.type == EventType::kScheduleFired) {
    log.Line("job " + event.job.str() + " run " + event.run.str() + ": " + event.detail);
  } else if (event.type == EventType::kTriggerRefused) {
    log.Line("job " + event.job.str() + " refused: " + event.detail);
  }
}

// The lines RecoverOnStartup writes, each through the log.
void LogLines(DaemonLog& log, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("petit: ", 0) == 0) line.erase(0, 7);
    log.Line(line);
  }
}

}  // namespace

int RunDaemon(HostEnv& env, std::vector<Job> jobs) {
  DaemonLog log;
  // Before any thread starts, so every thread inherits the blocked SIGTERM/SIGINT.
  RunCanceller shutdown;
  SignalCanceller signals(shutdown, [&log](int signal_number) {
    log.Line("received " + std::string(SignalName(signal_number)) +
             ": stopping (a second signal exits at once)");
  });

  Result<StateStore*> store = env.Store();
  if (!store.ok()) {
    log.Line(store.status().message());
    return kExitHostError;
  }
  std::ostringstream recovery;
  Result<std::string> owner = RecoverOnStartup(**store, recovery);
  LogLines(log, recovery.str());
  if (!owner.ok()) {
    log.Line("recovery failed: " + owner.status().message());
    return kExitHostError;
  }

  EventBus events;
  events.Subscribe([&log](const Event& event) { LogEvent(log, event); });

  RunOptions options;
  options.max_parallel_tasks = env.config().max_parallel_tasks;
  options.output_cap_bytes = env.config().output_cap_bytes;
  options.resources = &env.resources();
  options.events = &events;
  options.owner = *owner;
  ThreadRunLauncher launcher(env.runners(), **store, options,
                             [&log](const RunRequest& request, const Result<RunRecord>& result) {
                               LogRunEnd(log, request, result);
                             });

  std::vector<std::shared_ptr<const Job>> shared;
  size_t scheduled = 0;
  for (Job& job : jobs) {
    if (job.schedule && job.enabled) ++scheduled;
    shared.push_back(std::make_shared<const Job>(std::move(job)));
  }
  Scheduler scheduler(shared, SystemClock::Instance(), **store, launcher, &events);
  Status started = scheduler.Start();
  if (!started.ok()) {
    log.Line(started.message());
    return kExitHostError;
  }
  log.Line("running " + std::to_string(shared.size()) + " jobs (" + std::to_string(scheduled) +
           " scheduled), state in " + env.storage_uri());
  for (const auto& job : shared) {
    if (std::optional<int64_t> next = scheduler.NextFire(job->id)) {
      log.Line("job " + job->id.str() + " (" + job->schedule->expression() + ", " +
               job->schedule->time_zone() + ") fires next at " + job->schedule->FormatLocal(*next));
    }
  }

  std::mutex mu;
  std::condition_variable requested;
  const RunCanceller::WakeupId wakeup = shutdown.AddWakeup([&] {
    std::lock_guard lock(mu);
    requested.notify_all();
  });
  {
    std::unique_lock lock(mu);
    requested.wait(lock, [&] { return shutdown.cancelled(); });
  }
  shutdown.RemoveWakeup(wakeup);

  const uint64_t active = scheduler.stats().active_runs;
  log.Line("stopping: no new fires; cancelling " + std::to_string(active) + " active run" +
           (active == 1 ? "" : "s"));
  scheduler.Stop(StopMode::kCancelRuns);
  log.Line("stopped");
  return kExitOk;
}

}  // namespace petit::host
