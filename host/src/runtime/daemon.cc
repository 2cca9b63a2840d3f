#include "runtime/daemon.h"

#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "petit/core/clock.h"
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

// The store is in use by another daemon: the one refusal an operator must act on, so it explains
// the owner string it names.
Status NotStarting(const Status& status) {
  if (status.code() != StatusCode::kFailedPrecondition) return status;
  return FailedPrecondition("not starting: " + status.message() +
                            " (hostname/pid/start time of the petit run that holds it; one petit "
                            "run per store)");
}

}  // namespace

Daemon::Daemon(std::unique_ptr<HostEnv> env, DaemonLog& log) : env_(std::move(env)), log_(log) {}

Daemon::~Daemon() { Stop(StopMode::kCancelRuns); }

Result<std::unique_ptr<Daemon>> Daemon::Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                              DaemonLog& log) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(env), log));
  HostEnv& host = *daemon->env_;
  Result<StateStore*> store = host.Store();
  if (!store.ok()) return store.status();
  // First, as recovery must never run beside a live daemon of the same store.
  Result<std::string> lock_owner = CurrentProcessOwner();
  if (!lock_owner.ok()) return lock_owner.status();
  Result<std::unique_ptr<HostLock>> lock = (*store)->AcquireHostLock(*lock_owner);
  if (!lock.ok()) return NotStarting(lock.status());
  daemon->host_lock_ = std::move(lock).value();
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
  if (state.scheduler_paused) {
    log.Line("the scheduler is paused (kept in the store): no schedule fires until it is resumed");
  }
  for (const auto& job : daemon->jobs_) {
    if (std::optional<int64_t> next = daemon->NextFire(job->id)) {
      log.Line("job " + job->id.str() + " (" + job->schedule->expression() + ", " +
               job->schedule->time_zone() + ") fires next at " + job->schedule->FormatLocal(*next));
    }
  }
  return daemon;
}

Result<RunId> Daemon::Trigger(const JobId& job) { return scheduler_->Trigger(job); }

Result<PlannedRetry> Daemon::Retry(const RunId& run, const RetryRequest& request, bool dry_run) {
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return store.status();
  auto find_job = [this](const JobId& id) -> std::shared_ptr<const Job> {
    for (const auto& job : jobs_) {
      if (job->id == id) return job;
    }
    return nullptr;
  };
  Result<PlannedRetry> planned = PlanRunRetry(**store, find_job, run, request);
  if (!planned.ok() || dry_run) return planned;
  Result<RunId> started = scheduler_->Retry(planned->job->id, run, planned->resumption);
  if (!started.ok()) return started.status();
  return planned;
}

Status Daemon::SetPaused(const JobId& job, bool paused) {
  return scheduler_->SetPaused(job, paused);
}

Status Daemon::PauseScheduler() {
  PETIT_RETURN_IF_ERROR(scheduler_->SetSchedulerPaused(true));
  log_.Line("scheduler paused: no schedule fires until it is resumed; manual triggers still run");
  return Status::Ok();
}

Status Daemon::ResumeScheduler() {
  PETIT_RETURN_IF_ERROR(scheduler_->SetSchedulerPaused(false));
  log_.Line("scheduler resumed: missed occurrences are caught up per each job's catch_up");
  return Status::Ok();
}

Status Daemon::Cancel(const RunId& run) {
  PETIT_RETURN_IF_ERROR(scheduler_->Cancel(run));
  log_.Line("run " + run.str() + ": cancel requested");
  return Status::Ok();
}

Result<std::optional<RunRecord>> Daemon::GetRun(const RunId& run) {
  Result<StateStore*> store = env_->Store();
  if (!store.ok()) return store.status();
  return (*store)->GetRun(run);
}

void Daemon::Stop(StopMode mode) {
  if (scheduler_) scheduler_->Stop(mode);
}

void Daemon::Drain(std::chrono::milliseconds grace, RunCanceller& cancel_now) {
  if (!scheduler_) return;
  std::mutex mu;
  std::condition_variable changed;
  bool ended = false;         // guarded by mu
  bool cancel_asked = false;  // guarded by mu
  const RunCanceller::WakeupId wakeup = cancel_now.AddWakeup([&] {
    std::lock_guard lock(mu);
    cancel_asked = true;
    changed.notify_all();
  });
  // Stop waits for the runs; this thread watches the grace and the second signal meanwhile.
  std::thread stopper([&] {
    scheduler_->Stop(StopMode::kWaitForRuns);
    std::lock_guard lock(mu);
    ended = true;
    changed.notify_all();
  });
  const auto deadline = std::chrono::steady_clock::now() + grace;
  {
    std::unique_lock lock(mu);
    changed.wait_until(lock, deadline, [&] { return ended || cancel_asked; });
    if (!ended) {
      const bool asked = cancel_asked;
      lock.unlock();
      const uint64_t active = State().active_runs;
      log_.Line(std::string(asked ? "second signal" : "shutdown grace over") + ": cancelling " +
                std::to_string(active) + " active run" + (active == 1 ? "" : "s"));
      scheduler_->CancelActiveRuns();
    }
  }
  stopper.join();
  cancel_now.RemoveWakeup(wakeup);
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
    state.scheduler_paused = stats.paused;
  }
  return state;
}

std::optional<int64_t> Daemon::NextFire(const JobId& job) const {
  if (!scheduler_) return std::nullopt;
  return scheduler_->NextFire(job);
}

int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs) {
  DaemonLog log;
  const std::chrono::seconds grace = env->config().shutdown_grace;
  // Before any thread starts, so every thread inherits the blocked SIGTERM/SIGINT.
  RunCanceller drain;
  RunCanceller cancel_now;
  SignalCanceller signals(drain, cancel_now, [&log, grace](int signal_number, int count) {
    const std::string name(SignalName(signal_number));
    if (count == 1) {
      log.Line("received " + name + ": draining (no new fires; running tasks get " +
               std::to_string(grace.count()) +
               " s to finish; a second signal cancels them, a third exits at once)");
    } else {
      log.Line("received " + name + " again: cancelling the active runs now");
    }
  });

  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(std::move(env), std::move(jobs), log);
  if (!daemon.ok()) {
    log.Line(daemon.status().message());
    return kExitHostError;
  }

  std::mutex mu;
  std::condition_variable requested;
  const RunCanceller::WakeupId wakeup = drain.AddWakeup([&] {
    std::lock_guard lock(mu);
    requested.notify_all();
  });
  {
    std::unique_lock lock(mu);
    requested.wait(lock, [&] { return drain.cancelled(); });
  }
  drain.RemoveWakeup(wakeup);

  const uint64_t active = (*daemon)->State().active_runs;
  log.Line("stopping: no new fires; waiting for " + std::to_string(active) + " active run" +
           (active == 1 ? "" : "s"));
  (*daemon)->Drain(grace, cancel_now);
  log.Line("stopped");
  return kExitOk;
}

}  // namespace petit::host
