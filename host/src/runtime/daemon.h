// Daemon: the long-running host of `petit run`. One object owns the state store and the loaded
// plugins (through its HostEnv), the run launcher and the scheduler; every operation an operator
// has is one of its methods, so the CLI, the HTTP API and the web UI can never disagree about
// what an operation means.
//
// Start takes the store's host lock (one daemon per store: a second one is refused, naming the
// first), recovers the runs a dead host of this machine left running (runtime/recovery.h), arms
// the schedules of the enabled jobs (catching up per each job's policy) and fires them until Stop.
// It logs one line per fire, refusal and run end.
//
// Ownership: the Daemon owns the HostEnv it is given and shares the jobs with its runs; it borrows
// the log, which must outlive it.
// Threads: Start, Stop and the destructor are called by one owner thread; the other members may be
// called from any thread. Runs execute on threads of the launcher, the schedule on the scheduler's
// thread (core/scheduler.h).
#ifndef PETIT_HOST_RUNTIME_DAEMON_H_
#define PETIT_HOST_RUNTIME_DAEMON_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/job.h"
#include "petit/core/scheduler.h"
#include "petit/core/state_store.h"
#include "runtime/daemon_log.h"
#include "runtime/host_env.h"
#include "runtime/retry.h"
#include "runtime/thread_run_launcher.h"

namespace petit::host {

// What the daemon is doing, for `petit status` and the API's health.
struct DaemonState {
  size_t jobs = 0;
  size_t scheduled_jobs = 0;  // enabled jobs with a schedule
  uint64_t active_runs = 0;
  uint64_t fired = 0;
  uint64_t refused = 0;
  // The whole scheduler is paused (PauseScheduler): no schedule fires, manual triggers run.
  bool scheduler_paused = false;
  std::string storage_uri;
};

class Daemon {
 public:
  // `env` must have loaded its plugins; `jobs` are valid (runtime/load_jobs.h). Fails, starting
  // nothing, when the store cannot be opened or read, another daemon holds it
  // (kFailedPrecondition, "not starting: the store ... is in use by <its owner>"), or recovery
  // fails.
  static Result<std::unique_ptr<Daemon>> Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                               DaemonLog& log);
  // Stop(StopMode::kCancelRuns) if still running.
  ~Daemon();

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs `job` now (trigger "manual") through the job's admission rules; the run's id, or why not
  // (kNotFound: unknown job; kFailedPrecondition: at max_concurrency, or stopping).
  Result<RunId> Trigger(const JobId& job);
  // Retries the ended run `run` inside the same run (runtime/retry.h): with `dry_run` only the
  // plan is returned; otherwise the run is reopened and its planned tasks run again through the
  // job's admission rules. The plan is returned either way.
  Result<PlannedRetry> Retry(const RunId& run, const RetryRequest& request, bool dry_run);
  // Pauses or resumes one job's schedule, persisted in the store; resuming catches up per the
  // job's policy.
  Status SetPaused(const JobId& job, bool paused);
  // Pauses or resumes the whole scheduler, persisted in the store so a restart keeps it: while
  // paused no schedule fires, but manual triggers and retries still run (as a paused DAG in
  // Airflow or Dagu still runs when triggered by hand), and active runs go on. Resuming catches
  // up each job per its policy, as SetPaused does for one job; a paused job stays paused.
  // kFailedPrecondition once stopping.
  Status PauseScheduler();
  Status ResumeScheduler();
  // Cancels the active run `run` of this daemon: its tasks' process groups are terminated as on a
  // timeout (SIGTERM, then SIGKILL after the task's kill grace) and the run is recorded
  // cancelled. Returns once asked, not when the run has ended (GetRun tells). A triggered run
  // still waiting for a slot is dropped instead. kNotFound when `run` is not active here (an
  // unknown run, one that has ended, or one of another process).
  Status Cancel(const RunId& run);
  // No new fires; kCancelRuns cancels active runs (their process groups get SIGTERM, then
  // SIGKILL after the grace period) and records them cancelled; returns when every run has ended.
  // Idempotent.
  void Stop(StopMode mode);

  // The run as the store has it (nullopt for an unknown id); reads come from the store so that
  // several hosts can later serve one view.
  Result<std::optional<RunRecord>> GetRun(const RunId& run);

  // The graceful stop of a deploy: no new fires, active runs go on for up to `grace`; then, or as
  // soon as `cancel_now` is cancelled (a second signal), what is left is cancelled and recorded.
  // Returns when every run has ended; the daemon is stopped.
  void Drain(std::chrono::milliseconds grace, RunCanceller& cancel_now);

  DaemonState State() const;
  // The job's next fire time; nullopt when it has no schedule, is disabled or paused, or the
  // daemon is stopped.
  std::optional<int64_t> NextFire(const JobId& job) const;

 private:
  Daemon(std::unique_ptr<HostEnv> env, DaemonLog& log);

  // Declared in the order they are built; destroyed in reverse, the scheduler first (it waits
  // for the runs) and the store and plugins last.
  std::unique_ptr<HostEnv> env_;
  // Held from before recovery until every run has ended, and released before the store closes.
  std::unique_ptr<HostLock> host_lock_;
  DaemonLog& log_;
  std::vector<std::shared_ptr<const Job>> jobs_;
  EventBus events_;
  std::unique_ptr<ThreadRunLauncher> launcher_;
  std::unique_ptr<Scheduler> scheduler_;
};

// What `petit run` does: takes SIGTERM/SIGINT on a sigwait thread (call before any other thread
// exists), starts a Daemon, and on the first signal drains it for petit.yaml's shutdown_grace; a
// second signal cancels the active runs at once (recorded cancelled), a third ends the process,
// leaving its runs to the next start's recovery. Returns the process exit code: kExitOk after a
// graceful stop, kExitHostError when the daemon cannot start.
int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_H_
