// Daemon: the long-running host of `petit run`. One object owns the state store and the loaded
// plugins (through its HostEnv), the run launcher and the scheduler; every operation an operator
// has is one of its methods, so the CLI, the HTTP API and the web UI can never disagree about
// what an operation means.
//
// Start takes the store's host lock (one daemon per store: a second one is refused, naming the
// first), recovers the runs a dead host of this machine left running (runtime/recovery.h) and
// continues them: each task whose attempt was lost runs again if its retry policy allows (the lost
// attempt counts), otherwise it stays interrupted, and the run finishes by the usual rules,
// succeeded tasks kept. It then arms the schedules of the enabled jobs (catching up per each
// job's policy) and fires them until Stop.
// It logs one line per fire, refusal, run and task transition (runtime/daemon_log.h, at the level
// and in the format of petit.yaml's `logging:`), and one when the store stops answering and when
// it is back (core/store_outage.h): runs keep their tasks going meanwhile and write what they
// decided once it answers; what a run that gave up could not write is retried in the background
// for as long as the daemon lives (then left to the next start's recovery, which says so). Reload
// re-reads the job directory and petit.yaml without touching a running run.
//
// Ownership: the Daemon owns the HostEnv it is given and shares the jobs with its runs; it borrows
// the log, which must outlive it.
// Threads: Start, Stop and the destructor are called by one owner thread; the other members may be
// called from any thread. Runs execute on threads of the launcher, the schedule on the scheduler's
// thread (core/scheduler.h).
#ifndef PETIT_HOST_RUNTIME_DAEMON_H_
#define PETIT_HOST_RUNTIME_DAEMON_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/job.h"
#include "petit/core/resources.h"
#include "petit/core/scheduler.h"
#include "petit/core/state_store.h"
#include "petit/core/store_outage.h"
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
  // Whether the store answers, since when it does not, and the writes waiting for it.
  StoreHealth::Snapshot store;
  // When the scheduler thread last finished a pass or beat (it beats at least every
  // kSchedulerTickInterval while idle), epoch microseconds; 0 before its first.
  int64_t scheduler_last_tick_us = 0;
  // The scheduler runs and beat within kSchedulerStallLimit: its thread is not stuck.
  bool scheduler_alive = false;
  // Stop or Drain has begun: no new run starts.
  bool stopping = false;
};

// How often an idle scheduler thread beats (for DaemonState::scheduler_last_tick_us), and how long
// without a beat makes it count as stuck. A pass blocked on a store that does not answer counts.
inline constexpr std::chrono::seconds kSchedulerTickInterval{1};
inline constexpr std::chrono::seconds kSchedulerStallLimit{10};

// What a reload did, job ids sorted.
struct ReloadSummary {
  std::vector<JobId> added;
  std::vector<JobId> changed;  // their file changed (or petit.yaml's timezone did)
  std::vector<JobId> removed;
  // Kept their previous definition: their file has errors, or their id is declared twice.
  std::vector<JobId> kept;
  size_t unchanged = 0;
  size_t errors = 0;  // errors in job files and petit.yaml, each logged as validate prints it
  // petit.yaml settings that changed but apply only on a restart (storage, plugin_dirs, pools...).
  std::vector<std::string> needs_restart;
};

// What the HTTP API calls on a Daemon: Daemon's own members, virtual here because the API is a
// module (lib/petit/modules/petit_api.so, api/api_module.h) with its own copy of core's code but
// none of the host's, so every call into the daemon must reach the binary's code through a
// vtable. Each member is documented on Daemon.
class DaemonApi {
 public:
  virtual ~DaemonApi() = default;
  virtual Result<RunId> Trigger(const JobId& job) = 0;
  virtual Result<RunId> Trigger(const JobId& job, const TriggerOptions& options) = 0;
  virtual Result<PlannedRetry> Retry(const RunId& run, const RetryRequest& request,
                                     bool dry_run) = 0;
  virtual Status SetPaused(const JobId& job, bool paused) = 0;
  virtual Status PauseScheduler() = 0;
  virtual Status ResumeScheduler() = 0;
  virtual Status Cancel(const RunId& run) = 0;
  virtual Result<std::optional<RunRecord>> GetRun(const RunId& run) = 0;
  virtual Result<ReloadSummary> Reload(const HostOptions& host) = 0;
  virtual DaemonState State() const = 0;
  virtual std::vector<std::shared_ptr<const Job>> Jobs() const = 0;
  virtual std::shared_ptr<const Job> FindJob(const JobId& id) const = 0;
  virtual EventBus& events() = 0;
  virtual StateStore& store() = 0;
  virtual std::optional<int64_t> NextFire(const JobId& job) const = 0;
  virtual std::vector<Scheduler::JobState> JobStates() const = 0;
  virtual std::vector<ResourceManager::PoolUsage> PoolUsage() const = 0;
};

class Daemon final : public DaemonApi {
 public:
  // `env` must have loaded its plugins; `jobs` are valid (runtime/load_jobs.h). Fails, starting
  // nothing, when the store cannot be opened or read, another daemon holds it
  // (kFailedPrecondition, "not starting: the store ... is in use by <its owner>"), or recovery
  // fails.
  // `scheduler_options` is for the scheduler's heartbeat (the systemd watchdog).
  static Result<std::unique_ptr<Daemon>> Start(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                                               DaemonLog& log,
                                               SchedulerOptions scheduler_options = {});
  // Stop(StopMode::kCancelRuns) if still running.
  ~Daemon();

  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs `job` now (trigger "manual") through the job's admission rules; the run's id, or why not
  // (kNotFound: unknown job; kFailedPrecondition: at max_concurrency, or stopping).
  Result<RunId> Trigger(const JobId& job);
  // Runs `job` now as Trigger does, labelled options.trigger, with options.config replacing the
  // job's config values for this run only (Scheduler::Trigger). Errors for front ends that map
  // them: kNotFound unknown job; kInvalidArgument a config key the job does not have (naming the
  // closest); kResourceExhausted at the job's max_active_runs (here or, through the store, on
  // another host); kUnavailable while stopping, or the store does not answer.
  Result<RunId> Trigger(const JobId& job, const TriggerOptions& options);
  // Retries the ended run `run` inside the same run (runtime/retry.h): with `dry_run` only the
  // plan is returned; otherwise the run is reopened and its planned tasks run again through the
  // job's admission rules. The plan is returned either way. kNotFound: unknown run (or its job is
  // not defined here); kFailedPrecondition: the run has not ended, or nothing to retry;
  // kInvalidArgument: an unknown task; kResourceExhausted: at the job's max_active_runs;
  // kUnavailable: stopping.
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

  // Runs of this store whose owner, a process of this host, died after this daemon started (a
  // `petit trigger` killed with SIGKILL): their leftovers are terminated and the runs recorded
  // interrupted, as a start's recovery does, so that they stop holding their job's
  // max_concurrency. One line per run to the log. Blocks up to kLeftoverGrace when leftovers
  // ignore SIGTERM; the daemon's main thread calls it every kDeadOwnerSweepInterval.
  void SweepDeadOwners();
  // From now on State() says stopping and triggers and retries are refused; Stop and Drain begin
  // with it. Called before the stop is announced, so that whoever reads the announcement and then
  // asks the API sees the daemon stopping. Idempotent; any thread.
  void BeginStopping() { stopping_.store(true); }
  // The graceful stop of a deploy: no new fires, active runs go on for up to `grace`; then, or as
  // soon as `cancel_now` is cancelled (a second signal), what is left is cancelled and recorded.
  // Returns when every run has ended; the daemon is stopped.
  void Drain(std::chrono::milliseconds grace, RunCanceller& cancel_now);

  // Re-reads the job directory `host.jobs_dir` and petit.yaml (as `host` resolves it) and applies
  // them from each job's next run (Scheduler::UpdateJobs); running runs keep their definition.
  // A file with errors keeps the previous definitions of its jobs, while the jobs of valid files
  // are updated; a job id declared twice keeps its previous definition (or, new, does not start).
  // Of petit.yaml, timezone and shutdown_grace apply; other changed settings are listed as
  // needing a restart; a petit.yaml with errors keeps its previous settings. Plugins are not
  // reloaded. Every error and the summary are logged. Fails only when the daemon is stopping.
  // Reloads asked at once (SIGHUP and the API) run one after the other.
  Result<ReloadSummary> Reload(const HostOptions& host);
  // petit.yaml's shutdown_grace as of the latest reload.
  std::chrono::seconds shutdown_grace() const;

  DaemonState State() const;

  // For the API, the metrics and the event stream; each is thread-safe.
  // The jobs as last loaded (or reloaded), sorted by id; each shared, immutable.
  std::vector<std::shared_ptr<const Job>> Jobs() const;
  // The job as last loaded; null when unknown.
  std::shared_ptr<const Job> FindJob(const JobId& id) const;
  // Every run, task and schedule event of this daemon; subscribe to observe (core/events.h: a
  // slow handler loses events, never stalls the engine).
  EventBus& events() { return events_; }
  // The store, for reads (several hosts may later serve one view from it).
  StateStore& store();
  // The job's next fire time; nullopt when it has no schedule, is disabled or paused, or the
  // daemon is stopped.
  std::optional<int64_t> NextFire(const JobId& job) const;
  // Every job's pause and next fire time in one snapshot (Scheduler::JobStates); empty when the
  // daemon is stopped.
  std::vector<Scheduler::JobState> JobStates() const;
  // The host's resource pools as they are used now (ResourceManager::Usage).
  std::vector<ResourceManager::PoolUsage> PoolUsage() const;

 private:
  Daemon(std::unique_ptr<HostEnv> env, DaemonLog& log);

  // How to continue the runs recovery took over, each task as its retry policy allows
  // (PlanRecovery); one whose job is gone or whose attempts cannot be read is marked interrupted,
  // and says so.
  std::vector<Scheduler::ResumeRequest> PlanResumes(const std::vector<RunRecord>& taken_over);

  // Declared in the order they are built; destroyed in reverse, the scheduler first (it waits
  // for the runs) and the store and plugins last.
  std::unique_ptr<HostEnv> env_;
  // Held from before recovery until every run has ended, and released before the store closes.
  std::unique_ptr<HostLock> host_lock_;
  DaemonLog& log_;
  std::string owner_;  // this process's owner string, set once before the scheduler starts
  // Told by every run and the scheduler whether the store answers; logs the changes.
  std::unique_ptr<StoreHealth> store_health_;
  // Writes what runs that gave up on the store could not; destroyed after the runs ended and
  // before the store closes.
  std::unique_ptr<StoreWriteBehind> write_behind_;
  mutable std::mutex jobs_mu_;
  std::vector<std::shared_ptr<const Job>> jobs_;  // guarded by jobs_mu_; replaced by Reload
  // The text of each job file as its jobs were last loaded: a reload compares it to find the
  // changed jobs. Guarded by jobs_mu_.
  std::map<std::string, std::string> file_texts_;
  std::string time_zone_;                // guarded by jobs_mu_; petit.yaml's, as last loaded
  std::chrono::seconds shutdown_grace_;  // guarded by jobs_mu_; likewise
  // Written by the scheduler thread's heartbeat, so built before the scheduler and destroyed after.
  std::atomic<int64_t> last_tick_us_{0};  // the scheduler thread's latest beat
  std::atomic<bool> stopping_{false};     // set by BeginStopping (Stop and Drain begin with it)
  std::mutex reload_mu_;                  // one Reload at a time
  EventBus events_;
  std::unique_ptr<ThreadRunLauncher> launcher_;
  std::unique_ptr<Scheduler> scheduler_;
};

// Something `petit run` runs beside its daemon: the HTTP API (api/api_service.h), which runtime/
// knows only through this interface.
// Threads: called by ServeUntilSignalled's thread, in the order Prepare, Start, Stop.
class DaemonCompanion {
 public:
  virtual ~DaemonCompanion() = default;
  // Before the daemon starts, starting no thread: takes what it needs (a port), so that a
  // failure refuses to start `petit run` (its message is logged) before any run is touched.
  virtual Status Prepare(DaemonLog& log) = 0;
  // Once the daemon runs; `daemon` outlives Stop.
  virtual void Start(Daemon& daemon) = 0;
  // When the daemon is about to drain, or did not start; returns promptly. Idempotent.
  virtual void Stop() = 0;
};

// What `petit run` does: takes SIGTERM/SIGINT/SIGHUP on a sigwait thread (call before any other
// thread exists), starts a Daemon, and on the first signal drains it for petit.yaml's
// shutdown_grace; a second signal cancels the active runs at once (recorded cancelled), a third
// ends the process, leaving its runs to the next start's recovery. SIGHUP reloads
// (Daemon::Reload with `host`). Under systemd it notifies READY, RELOADING, STOPPING and feeds the
// watchdog from the scheduler thread (runtime/systemd_notify.h). Returns the process exit code:
// kExitOk after a graceful stop, kExitHostError when the daemon cannot start, or when its state
// store was lost for good (StateStore::SetLostListener: the SQLite file deleted, replaced or made
// unwritable): then it logs one line, starts no new run, drains as on SIGTERM and exits.
// `companion`, when given, is prepared before the daemon starts, started once it runs and stopped
// before it drains, so that nothing reaches a daemon being torn down.
int ServeUntilSignalled(std::unique_ptr<HostEnv> env, std::vector<Job> jobs,
                        const HostOptions& host, DaemonCompanion* companion = nullptr);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_DAEMON_H_
