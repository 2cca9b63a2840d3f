// Daemon: the long-running host of `petit run`. One object owns the state store and the loaded
// plugins (through its HostEnv), the run launcher and the scheduler; every operation an operator
// has is one of its methods, so the CLI, the HTTP API and the web UI can never disagree about
// what an operation means.
//
// Start recovers the runs a dead host of this machine left running (runtime/recovery.h), arms the
// schedules of the enabled jobs (catching up per each job's policy) and fires them until Stop.
// It logs one line per fire, refusal and run end.
//
// Ownership: the Daemon owns the HostEnv it is given and shares the jobs with its runs; it borrows
// the log, which must outlive it.
// Threads: Start, Stop and the destructor are called by one owner thread; the other members may be
// called from any thread. Runs execute on threads of the launcher, the schedule on the scheduler's
// thread (core/scheduler.h).
#ifndef PETIT_HOST_RUNTIME_DAEMON_H_
#define PETIT_HOST_RUNTIME_DAEMON_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/job.h"
#include "petit/core/scheduler.h"
#include "runtime/daemon_log.h"
#include "runtime/host_env.h"
#include "runtime/thread_run_launcher.h"

namespace petit::host {

// What the daemon is doing, for `petit status` and the API's health.
struct DaemonState {
  size_t jobs = 0;
  size_t scheduled_jobs = 0;  // enabled jobs with a schedule
  uint64_t active_runs = 0;
  uint64_t fired = 0;
  uint64_t refused = 0;
  std::string storage_uri;
};

class Daemon {
 public:
  // `env` must have loaded its plugins; `jobs` are valid (runtime/load_jobs.h). Fails, starting
  // nothing, when the store cannot be opened or read or recovery fails.
  static Result<std::unique_ptr<Daemon>> Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                               DaemonLog& log);
  // Stop(StopMode::kCancelRuns) if still running.
  ~Daemon();

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs `job` now (trigger "manual") through the job's admission rules; the run's id, or why not
  // (kNotFound: unknown job; kFailedPrecondition: at max_concurrency, or stopping).
  Result<RunId> Trigger(const JobId& job);
  // Pauses or resumes one job's schedule, persisted in the store; resuming catches up per the
  // job's policy.
  Status SetPaused(const JobId& job, bool paused);
  // No new fires; kCancelRuns cancels active runs (their process groups get SIGTERM, then
  // SIGKILL after the grace period) and records them cancelled; returns when every run has ended.
  // Idempotent.
  void Stop(StopMode mode);

  // The run as the store has it (nullopt for an unknown id); reads come from the store so that
  // several hosts can later serve one view.
  Result<std::optional<RunRecord>> GetRun(const RunId& run);

  DaemonState State() const;
  // The job's next fire time; nullopt when it has no schedule, is disabled or paused, or the
  // daemon is stopped.
  std::optional<int64_t> NextFire(const JobId& job) const;

 private:
  explicit Daemon(std::unique_ptr<HostEnv> env);

  // Declared in the order they are built; destroyed in reverse, the scheduler first (it waits
  // for the runs) and the store and plugins last.
  std::unique_ptr<HostEnv> env_;
  std::vector<std::shared_ptr<const Job>> jobs_;
  EventBus events_;
  std::unique_ptr<ThreadRunLauncher> launcher_;
  std::unique_ptr<Scheduler> scheduler_;
};

// What `petit run` does: takes SIGTERM/SIGINT on a sigwait thread (call before any other thread
// exists), starts a Daemon, and on the first signal stops it cancelling active runs; a second
// signal ends the process at once, leaving its runs to the next start's recovery. Returns the
// process exit code: kExitOk after a graceful stop, kExitHostError when the daemon cannot start.
int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_H_
