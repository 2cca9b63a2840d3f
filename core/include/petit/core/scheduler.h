// Scheduler: fires the jobs' schedules on time, admits manual triggers through the same rules, and
// catches up occurrences missed while the host was down or a job paused (DESIGN §5).
//
// One thread waits for the earliest fire time of a timer heap (O(log n) per fire, nothing polled):
// on a condition variable with a deadline for a real clock, or woken by a virtual clock's wake-up
// (Clock::AddWakeup), so a test that advances a ManualClock wakes it, and moves that fire nothing
// never wake it at all.
//
// Rules, for an occurrence that falls due:
// - disabled jobs and paused jobs (JobRecord.paused) never fire, nor does any job while the whole
//   scheduler is paused (SchedulerRecord.paused);
// - cross-job dependencies (Job.depends_on) are checked against the StateStore when it falls due;
//   an unmet one skips the occurrence (kTriggerRefused names the dependency);
// - admission: with fewer than max_active_runs runs active here (0 = unlimited) the run is
//   launched, and the launcher admits it in the store, where runs of other processes count too
//   and an occurrence is created once per store (RunLauncher::Launch): kScheduleFired ("run
//   started") follows the launch, kTriggerRefused a refusal; at the
//   limit, overlap kSkip drops the occurrence (kTriggerRefused), kQueue keeps ONE occurrence that
//   starts when a run ends (a second one is refused), kCancelPrevious cancels the oldest active run
//   and starts once it has ended, so max_active_runs is never exceeded (a newer occurrence replaces
//   the waiting one);
// - every occurrence dealt with (started, queued or refused) is persisted as JobRecord.last_fire_us
//   before its run is launched: the scheduler thread's fires in the commit that admits their runs
//   (RunLauncher::LaunchBatchSavingJobs; the other writers of records wait for that commit), the
//   others before the launch; a save the store does not take (an outage) is retried with
//   backoff from the scheduler thread until it lands (the occurrence never fires again here, and
//   a restart then does not catch it up);
// - a clock that jumped forward over several occurrences fires once, for the latest; a clock that
//   went backwards waits for the next occurrence after the last one dealt with, so nothing fires
//   twice.
// Catch-up (at Start, and when SetPaused or SetSchedulerPaused resumes a job), for the occurrences
// in
// (last_fire_us, now]: kNone skips them; kLatest runs the latest one like a scheduled
// occurrence; kAll runs the latest catch_up_limit of them, oldest first, as run slots free up
// (they wait whatever the overlap policy). A job without a JobRecord has missed nothing: its record
// is created with the latest past occurrence. Catch-up runs have trigger "catch_up".
// Manual triggers (Trigger) skip dependencies, pause (the job's and the scheduler's) and enabled,
// but not admission.
//
// Ownership: the Scheduler borrows the clock, store, launcher and event bus, which must outlive it;
// it shares the jobs. It owns the handles of the runs it launched.
// Threads: Start and Stop are called by one owner thread (not concurrently with each other); every
// other member function may be called from any thread. Lock order: a virtual clock's wake-up lock
// comes before the scheduler's lock; the scheduler calls the store and RunHandle::Cancel() with its
// lock held, and RunLauncher::Launch() without it.
#ifndef PETIT_CORE_SCHEDULER_H_
#define PETIT_CORE_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/ids.h"
#include "petit/core/job.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/store_outage.h"

namespace petit {

struct RunResumption;  // execute_run.h

// A run the scheduler wants started.
struct RunRequest {
  std::shared_ptr<const Job> job;
  RunId run_id;
  std::string trigger;        // "schedule", "catch_up", "manual" or "retry"
  int64_t occurrence_us = 0;  // the schedule occurrence it stands for; 0 for a manual run
  // Set when the run is an existing one that continues (a retry): ExecuteRun's
  // RunOptions::resume.
  std::shared_ptr<const RunResumption> resume;
  // With `resume`: the run as the caller already reopened it in the store (taken over from a dead
  // host, StateStore::TakeOverRun), which the launcher then starts without admitting it again:
  // ExecuteRun's RunOptions::admitted. nullptr: the launcher reopens it through admission.
  // Without `resume`: a new run the store already admitted (a launch held by an outage whose
  // admission had landed), started as it is.
  std::shared_ptr<const RunRecord> admitted;
};

// A run in progress, as its launcher lets the scheduler reach it.
class RunHandle {
 public:
  virtual ~RunHandle() = default;
  // Asks the run to stop; it then ends (kCancelled) and reports its end as usual. Returns at once
  // and must not call back into the Scheduler (it runs under the scheduler's lock). May be called
  // more than once, and after the run ended.
  virtual void Cancel() = 0;
};

// Tells the scheduler that a launched run has ended (its final record is written).
using RunEndCallback = std::function<void()>;

// The port through which the scheduler starts runs (the host runs ExecuteRun on a thread).
class RunLauncher {
 public:
  virtual ~RunLauncher() = default;
  // Starts `request` and returns without waiting for the run. On success, `on_end` is called
  // exactly once when the run has ended, from any thread, possibly before Launch returns (but not
  // from inside a RunHandle::Cancel()). On failure `on_end` is never called; kFailedPrecondition
  // says the store refused to admit a new run (StateStore::AdmitRun: another process holds the
  // job's run slots, or the occurrence already has a run), which the scheduler reports as a
  // refusal (kTriggerRefused) with that reason. THREADS: may be called from several threads at
  // once.
  virtual Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                                    RunEndCallback on_end) = 0;
  // Launch for each request, `on_ends[i]` being requests[i]'s `on_end`: one answer each, in the
  // same order, each as Launch would give it. A launcher that admits new runs in a store admits
  // them together (StateStore::AdmitRuns), so the occurrences due at one scheduler tick cost one
  // commit, not one each. The default launches them one by one. THREADS: as Launch.
  virtual std::vector<Result<std::unique_ptr<RunHandle>>> LaunchBatch(
      std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends);

  // What LaunchBatchSavingJobs did: LaunchBatch's answers, and the save of the jobs.
  struct BatchLaunch {
    std::vector<Result<std::unique_ptr<RunHandle>>> handles{};
    Status jobs_saved{};
  };
  // LaunchBatch, with the scheduler's `jobs` records (of the occurrences these runs stand for, and
  // of those a tick refused) saved in `store`. A launcher that admits in `store` saves them in the
  // commit that admits the new runs (StateStore::AdmitRunsAndSaveJobs), stamping the runs'
  // creation time just before it: one commit per tick, and no run without its occurrence's record
  // nor the reverse. The default saves `jobs` (StateStore::SaveJobs), then calls LaunchBatch.
  // THREADS: as Launch.
  virtual BatchLaunch LaunchBatchSavingJobs(std::span<const RunRequest> requests,
                                            std::vector<RunEndCallback> on_ends,
                                            std::span<const JobRecord> jobs, StateStore& store);
};

// One pass of the scheduler thread over due work.
struct SchedulerPass {
  int64_t now_us = 0;     // the clock when the pass looked at the timer heap
  uint64_t wakeups = 0;   // times the thread has woken from a wait so far
  uint32_t launched = 0;  // runs this pass launched
};

struct SchedulerOptions {
  // Called on the scheduler thread after each pass, without the scheduler's lock held, once the
  // pass's records are saved and its runs launched. For tests and metrics: must not call Stop().
  std::function<void(const SchedulerPass&)> on_pass;
  // Called on the scheduler thread after each pass, and at least every heartbeat_interval_us of
  // the clock while nothing is due (0: only after passes), without the scheduler's lock held: a
  // liveness signal of the scheduler thread (the host feeds systemd's watchdog with it).
  std::function<void()> heartbeat;
  int64_t heartbeat_interval_us = 0;
  // Told of every failed and successful save of a JobRecord; nullptr = nobody.
  StoreHealth* store_health = nullptr;  // not owned
  // An occurrence whose run the store cannot admit because it does not answer (an outage, not a
  // refusal) keeps its run slot and is tried again with this backoff until this limit from the
  // first failure; then it is refused with the reason. Job records are saved again with the same
  // backoff.
  StoreOutagePolicy store_outage{};
  // Called on the scheduler thread, with the scheduler's lock held, each time it is about to sleep
  // until its next due time (see Scheduler::IdleUntil). For virtual-time test harnesses: it must
  // be quick and must not call into the scheduler or move the clock.
  std::function<void()> on_idle;
  // Called once on the scheduler thread when it starts, before its first pass (the host raises
  // the thread's scheduling priority there, so that fires keep their time on a busy machine).
  std::function<void()> on_thread_start;
};

// Stale fire times (of jobs unscheduled since they were queued) the scheduler keeps beyond one per
// job before it drops them: see SchedulerStats::queued_fire_times.
inline constexpr size_t kMaxStaleFireTimes = 64;

struct SchedulerStats {
  uint64_t wakeups = 0;      // the scheduler thread woke from a wait
  uint64_t fired = 0;        // occurrences that started or queued a run (catch-up included)
  uint64_t refused = 0;      // occurrences and triggers refused (kTriggerRefused)
  uint64_t active_runs = 0;  // runs launched and not yet ended
  bool paused = false;       // the whole scheduler is paused (SetSchedulerPaused)
  // Fire times queued: one per scheduled job, plus those of jobs paused, resumed or rescheduled
  // since, which are dropped past as many again + kMaxStaleFireTimes (memory stays bounded by the
  // jobs, however often they are paused and resumed).
  size_t queued_fire_times = 0;
  // The latest failure to persist a JobRecord (the scheduler goes on; a restart may then catch up
  // an occurrence again). OK if none.
  Status last_store_error;
};

// What a manual trigger asks beyond the job: see Scheduler::Trigger.
struct TriggerOptions {
  std::string trigger = "manual";  // the run's trigger label ("manual", "api", ...)
  // Values that replace the job's config (Job::config) for this run only; each key must be one
  // the job's config has. Empty: the job's config as it is.
  ValueMap config{};
};

enum class StopMode : uint8_t {
  kWaitForRuns,  // let active runs finish
  kCancelRuns,   // cancel active runs, then wait for them to end
};

class Scheduler {
 public:
  // Job ids must be unique. Jobs without a schedule can only be triggered.
  Scheduler(std::vector<std::shared_ptr<const Job>> jobs, Clock& clock, StateStore& store,
            RunLauncher& launcher, EventBus* events, SchedulerOptions options = {});
  // Stop(StopMode::kCancelRuns) if still running.
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // A run to continue as Start begins (one a dead host left): see Start.
  struct ResumeRequest {
    JobId job;
    RunId run;
    std::shared_ptr<const RunResumption> resume;
    // The run as the caller took it over (StateStore::TakeOverRun): still active in the store, so
    // it is started as it is (RunRequest::admitted), or, when it cannot be, marked interrupted.
    // nullptr: an ended run, reopened through admission.
    std::shared_ptr<const RunRecord> taken_over;
  };

  // Reads the scheduler's and the jobs' records, launches the runs of `resume_first` (trigger
  // "recovery"; before anything else, so they get their job's run slots first; one its job's
  // max_active_runs leaves no room for, or of an unknown job, is refused with kTriggerRefused),
  // catches up (launching those runs before it returns), then starts the scheduler thread. Fails,
  // without starting anything, when the store cannot be read. Once only.
  Status Start(std::span<const ResumeRequest> resume_first = {});

  // Graceful: no occurrence fires and no waiting run starts once Stop is called (waiting ones are
  // dropped with kTriggerRefused); returns when every launched run has ended. Idempotent.
  void Stop(StopMode mode);

  // Asks every active run to stop (recorded cancelled), now and without stopping the scheduler;
  // with Stop(kWaitForRuns) under way on another thread, this ends the wait. What a drain does
  // when its grace runs out.
  void CancelActiveRuns();

  // Asks the active run `run` to stop, as CancelActiveRuns does for all (it ends recorded
  // cancelled), and returns at once; an occurrence or trigger with that run id still waiting for a
  // run slot is dropped instead (kTriggerRefused), having never started. Asking again is OK.
  // kNotFound when `run` is neither active nor waiting here.
  Status Cancel(const RunId& run);

  // Runs `job` now (trigger "manual"), through admission: returns the id of the run, started or
  // queued by the overlap policy, or why it was refused (kFailedPrecondition: at the limit, or the
  // scheduler is not running; kNotFound: unknown job; a launcher failure as it is).
  Result<RunId> Trigger(const JobId& job);
  // The same, labelled options.trigger, with options.config replacing the job's config values for
  // this run (a run waiting for a slot keeps the definition it was triggered with).
  // kInvalidArgument, refusing nothing else, for a key the job's config does not have (with the
  // closest key).
  Result<RunId> Trigger(const JobId& job, const TriggerOptions& options);

  // Continues the ended run `run` of `job` with `resume` (a retry), through the same admission
  // as Trigger: the run counts against max_active_runs while it runs again.
  // `trigger` labels the launch ("retry", or "recovery" for a run a dead host left).
  Result<RunId> Retry(const JobId& job, const RunId& run,
                      std::shared_ptr<const RunResumption> resume,
                      std::string_view trigger = "retry");

  // Replaces the job definitions (a reload), ids unique. A job whose id is already known keeps its
  // JobRecord (pause, last fire) and its active and waiting runs; its next runs use the new
  // definition, while a running run keeps the definition it started with (RunRequest::job). If its
  // schedule changed (expression, zone, enabled) it re-arms from now: the occurrences of the new
  // schedule up to now count as dealt with (persisted), none is caught up. A job no longer listed
  // stops firing, its waiting occurrences are dropped (kTriggerRefused) and its active runs finish;
  // Trigger no longer knows it. A new job is armed as at Start (its record read from the store,
  // caught up per its policy if it has one). kFailedPrecondition when the scheduler is not running;
  // a store failure is kept in stats().last_store_error and the update goes on.
  Status UpdateJobs(std::vector<std::shared_ptr<const Job>> jobs);

  // Pauses or resumes a job's schedule and persists it. Resuming catches up per the job's policy
  // (while the whole scheduler is paused, when the scheduler resumes).
  // Active runs go on; occurrences waiting for a run slot are dropped when pausing.
  Status SetPaused(const JobId& job, bool paused);

  // Pauses or resumes the whole scheduler and persists it (SchedulerRecord), so a restart on the
  // same store stays paused. A paused scheduler fires no schedule; manual triggers and retries
  // still run, and active runs go on. Pausing drops the scheduled and caught-up occurrences
  // waiting for a run slot; resuming catches up each schedulable job per its policy, as resuming a
  // paused job does (a job that is itself paused stays paused). kFailedPrecondition when the
  // scheduler is not running; a store error as it is, changing nothing.
  Status SetSchedulerPaused(bool paused);

  // The job's next fire time; nullopt when it has no schedule, is disabled or paused (or the
  // whole scheduler is), or the scheduler is not running.
  std::optional<int64_t> NextFire(const JobId& job) const;

  // One job's schedule state as JobStates sees it.
  struct JobState {
    JobId job;
    bool paused = false;                  // the job's own pause (SetPaused)
    std::optional<int64_t> next_fire_us;  // as NextFire
  };
  // Every current job's state in one snapshot, taken under one lock (metrics and status pages
  // read a thousand jobs at a time), in no particular order; empty when the scheduler is not
  // running.
  std::vector<JobState> JobStates() const;

  SchedulerStats stats() const;

  // For virtual-time test harnesses (petit::testing): when the scheduler thread sleeps with
  // nothing to do (no pass pending: no run end or trigger to act on, nothing due at the clock's
  // time), the time it sleeps until (its next fire or store retry; INT64_MAX for none); nullopt
  // while it has work, is not sleeping, or is not running. Read under the scheduler's lock, so
  // whoever set work for the thread before the call is seen.
  std::optional<int64_t> IdleUntil() const;

 private:
  // Trigger and Retry: a new run, or the existing run `existing` continued with `resume`.
  // `config`, when not null, replaces config values of the job for this run (Trigger's options).
  Result<RunId> Submit(const JobId& job, std::optional<RunId> existing,
                       std::shared_ptr<const RunResumption> resume, std::string_view trigger,
                       const ValueMap* config = nullptr);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace petit

#endif  // PETIT_CORE_SCHEDULER_H_
