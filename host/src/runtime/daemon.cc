#include "runtime/daemon.h"

#include <csignal>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "petit/core/clock.h"
#include "petit/core/mutex.h"
#include "petit/host/exit_codes.h"
#include "runtime/recovery.h"
#include "runtime/run_options.h"
#include "runtime/signal_canceller.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

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
          FormatDuration(result->ended_us - result->started_us) + " (trigger " + request.trigger +
          ")";
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

}  // namespace

Daemon::Daemon(std::unique_ptr<HostEnv> env) : env_(std::move(env)) {}

Daemon::~Daemon() { Stop(StopMode::kCancelRuns); }

Result<std::unique_ptr<Daemon>> Daemon::Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                              DaemonLog& log) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(env)));
  HostEnv& host = *daemon->env_;
  Result<StateStore*> store = host.Store();
  if (!store.ok()) return store.status();
  std::ostringstream recovery;
  Result<std::string> owner = RecoverOnStartup(**store, recovery);
  log.Lines(recovery.str());
  if (!owner.ok()) return owner.status().WithContext("recovery failed");

  daemon->events_.Subscribe([&log](const Event& event) { LogEvent(log, event); });
  RunOptions options = HostRunOptions(host, *owner);
  options.events = &daemon->events_;
  daemon->launcher_ = std::make_unique<ThreadRunLauncher>(
      host.runners(), **store, options,
      [&log](const RunRequest& request, const Result<RunRecord>& result) {
        LogRunEnd(log, request, result);
      });

  for (Job& job : jobs) daemon->jobs_.push_back(std::make_shared<const Job>(std::move(job)));
  daemon->scheduler_ = std::make_unique<Scheduler>(daemon->jobs_, SystemClock::Instance(), **store,
                                                   *daemon->launcher_, &daemon->events_);
  PETIT_RETURN_IF_ERROR(daemon->scheduler_->Start());

  const DaemonState state = daemon->State();
  log.Line("running " + std::to_string(state.jobs) + " jobs (" +
           std::to_string(state.scheduled_jobs) + " scheduled), state in " + state.storage_uri);
  for (const auto& job : daemon->jobs_) {
    if (std::optional<int64_t> next = daemon->NextFire(job->id)) {
      log.Line("job " + job->id.str() + " (" + job->schedule->expression() + ", " +
               job->schedule->time_zone() + ") fires next at " + job->schedule->FormatLocal(*next));
    }
  }
  return daemon;
}

Result<RunId> Daemon::Trigger(const JobId& job) { return scheduler_->Trigger(job); }

Status Daemon::SetPaused(const JobId& job, bool paused) {
  return scheduler_->SetPaused(job, paused);
}

Result<std::optional<RunRecord>> Daemon::GetRun(const RunId& run) {
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return store.status();
  return (*store)->GetRun(run);
}

void Daemon::Stop(StopMode mode) {
  if (scheduler_) scheduler_->Stop(mode);
}

DaemonState Daemon::State() const {
  DaemonState state;
  state.jobs = jobs_.size();
  for (const auto& job : jobs_) {
    if (job->schedule && job->enabled) ++state.scheduled_jobs;
  }
  state.storage_uri = env_->storage_uri();
  if (scheduler_) {
    const SchedulerStats stats = scheduler_->stats();
    state.active_runs = stats.active_runs;
    state.fired = stats.fired;
    state.refused = stats.refused;
  }
  return state;
}

std::optional<int64_t> Daemon::NextFire(const JobId& job) const {
  if (!scheduler_) return std::nullopt;
  return scheduler_->NextFire(job);
}

int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs) {
  DaemonLog log;
  // Before any thread starts, so every thread inherits the blocked SIGTERM/SIGINT.
  RunCanceller shutdown;
  SignalCanceller signals(shutdown, [&log](int signal_number) {
    log.Line("received " + std::string(SignalName(signal_number)) +
             ": stopping (a second signal exits at once)");
  });

  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(std::move(env), std::move(jobs), log);
  if (!daemon.ok()) {
    log.Line(daemon.status().message());
    return kExitHostError;
  }

  Mutex mu;
  CondVar requested(mu);
  const RunCanceller::WakeupId wakeup = shutdown.AddWakeup([&] {
    MutexLock lock(mu);
    requested.SignalAll();
  });
  {
    MutexLock lock(mu);
    while (!shutdown.cancelled()) requested.Wait(mu);
  }
  shutdown.RemoveWakeup(wakeup);

  const uint64_t active = (*daemon)->State().active_runs;
  log.Line("stopping: no new fires; cancelling " + std::to_string(active) + " active run" +
           (active == 1 ? "" : "s"));
  (*daemon)->Stop(StopMode::kCancelRuns);
  log.Line("stopped");
  return kExitOk;
}

}  // namespace petit::host
