// ExecuteRun: runs one job run to completion, event-driven.
//
// Each task keeps a count of unfinished upstreams; a finishing task decrements its downstreams and
// those reaching zero are judged by their trigger rule and either queued or marked skipped /
// upstream_failed at once. A task starts as soon as its own upstreams allow and a slot is free;
// there are no waves and no polling, so a run costs O(V + E) bookkeeping.
//
// Templates (`${{ tasks.x.outputs.k }}`, `${{ config.k }}`, `${{ run.id }}`, ...) in a task's
// parameters are expanded just before each attempt, from the outputs of upstream tasks that
// succeeded; a template that cannot be expanded fails the task without retrying it.
//
// Durability: the run row exists before any task starts; a task's "running" attempt is written to
// the StateStore before its runner is called, and its final state before any downstream starts.
// A run fails iff some task failed (skipped and upstream_failed tasks do not count on their own).
// A task that names resources waits for them (all-or-nothing, see resources.h) in state kQueued,
// recorded before it waits; it takes a worker only once its slots are granted. A store that stops
// answering holds these writes back, in order, while running attempts go on and nothing new
// starts (store_outage.h).
//
// Threads: ExecuteRun blocks its caller, which becomes the run's coordinator. Attempts run on the
// process's worker threads, shared by every run (a run starts none of its own; a worker idle for
// 30 s ends). The run's state has one writer at a time: the coordinator, or the worker that has
// just finished one of its attempts, which then settles it and starts the next ones itself, so an
// in-process attempt costs no thread hand-off. ExecuteRun returns once no worker touches the run
// (abandoned attempts aside, see RunOptions::cancel_grace). Observer callbacks run on whichever
// thread drives the run at the time, one at a time and in order, so a slow observer delays
// dispatch but never corrupts state. Cancel() on a RunCanceller may be called from any thread (a
// signal-handling thread, for instance).
#ifndef PETIT_CORE_EXECUTE_RUN_H_
#define PETIT_CORE_EXECUTE_RUN_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/job.h"
#include "petit/core/mutex.h"
#include "petit/core/resources.h"
#include "petit/core/retry_plan.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/store_outage.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit {

// Receives progress of a run on the thread driving it (never two calls at once), once the
// transition it reports is saved
// in the StateStore (task events on the RunOptions::events bus follow the same rule), in the
// order the engine decided them. Default implementations do nothing.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnTaskStarted(const TaskSpec& /*task*/, uint32_t /*attempt*/) {}
  // Called once per attempt that reached a final state, and once for tasks that never ran.
  virtual void OnTaskFinished(const TaskSpec& /*task*/, const AttemptRecord& /*attempt*/) {}
  virtual void OnTaskRetrying(const TaskSpec& /*task*/, const AttemptRecord& /*failed*/,
                              int64_t /*retry_at_us*/) {}
};

// Lets another thread cancel a run: running attempts are asked to stop, nothing new starts. The
// run's coordinator is woken at once (it does not poll). One canceller may serve several runs.
// Threads: every member is thread-safe, but none is async-signal-safe: cancel from a thread that
// waits for signals with sigwait(), not from a signal handler.
class RunCanceller {
 public:
  RunCanceller() = default;
  RunCanceller(const RunCanceller&) = delete;
  RunCanceller& operator=(const RunCanceller&) = delete;

  void Cancel() EXCLUDES(mu_);
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // For ExecuteRun: `wake` runs on the cancelling thread when Cancel() is called (or at once if it
  // already was). It must be quick and must not call back into this canceller.
  using WakeupId = uint64_t;
  WakeupId AddWakeup(std::function<void()> wake) EXCLUDES(mu_);
  void RemoveWakeup(WakeupId id) EXCLUDES(mu_);

 private:
  std::atomic<bool> cancelled_{false};
  Mutex mu_;
  std::map<WakeupId, std::function<void()>> wakeups_ GUARDED_BY(mu_);
  WakeupId next_id_ GUARDED_BY(mu_) = 0;
};

// What ExecuteRun needs to continue an existing run instead of creating one (a retry, or the
// recovery of a run whose host died): the plan, for the job's Dag, and the run's stored attempts,
// whose kept outputs downstream tasks read as before.
struct RunResumption {
  RetryPlan plan;
  std::vector<AttemptRecord> attempts;
};

// What RunOptions::on_idle reports, each time it changes: when the run's coordinator is about to
// sleep with nothing posted to it (idle, until deadline_us: its next timer, a retry or an
// attempt's timeout, INT64_MAX for none), and when it stops being so (it woke, or an attempt's
// completion, a resource grant or a cancel was posted to it). `completions` counts the attempt
// completions ever posted to the run, so that a harness that counts the attempts it started
// knows whether one is still on its way: reported in the same critical section as the post.
struct RunIdleState {
  bool idle = false;
  int64_t deadline_us = 0;
  uint64_t completions = 0;
};

struct RunOptions {
  // Attempts in flight at once across the run; 0 = the number of hardware threads.
  uint32_t max_parallel_tasks = 0;
  // Captured bytes kept per stream per attempt; beyond it output is dropped and a marker written.
  size_t output_cap_bytes = 16u << 20;
  std::string trigger = "manual";
  // Recorded as RunRecord::owner: the host process driving the run, so that recovery on startup
  // leaves the runs of live processes alone. Empty: no process owns it.
  std::string owner;
  Clock* clock = nullptr;             // nullptr = SystemClock
  RunObserver* observer = nullptr;    // not owned; may be nullptr
  RunCanceller* canceller = nullptr;  // not owned; may be nullptr
  // Named pools shared by every run of the host; a task that names resources waits for them in
  // state kQueued without holding a worker. nullptr: tasks that name resources are refused.
  ResourceManager* resources = nullptr;  // not owned
  EventBus* events = nullptr;            // not owned; nullptr = no events
  // Continue the run `run_id` instead of creating it: the run is reopened in the store first
  // (StateStore::ReopenRun, so it must have ended; its trigger and creation stay), kept tasks keep
  // their states and outputs, and the plan's tasks run with attempt numbers continuing.
  const RunResumption* resume = nullptr;  // not owned; nullptr = a new run
  // The schedule occurrence a new run stands for (RunRecord::occurrence_us); 0 for none.
  int64_t occurrence_us = 0;
  // A new run is admitted in the store (StateStore::AdmitRun, with the job's max_active_runs and
  // occurrence_us), a resumed one reopened through admission (StateStore::AdmitReopen), so the
  // limit holds whichever processes start runs of the job; a refusal ends ExecuteRun with
  // kFailedPrecondition and the store's reason, nothing started. A caller that wants the refusal
  // before it commits to the run admits the run itself and passes it here as the store then had
  // it (created queued, or reopened): ExecuteRun starts it, and records it failed if it cannot.
  const RunRecord* admitted = nullptr;  // not owned; nullptr = admit here
  // How long an attempt whose runner does not promise to stop (TaskRunner::stops_on_cancel) may
  // run on once cancelled or timed out. Then the attempt fails ("... ignored cancel ..."), its
  // worker thread is abandoned (left running, never joined, its output no longer recorded) and a
  // new worker takes its place. 0 = wait for ever.
  std::chrono::milliseconds cancel_grace{0};
  // The seed of the run's retry jitter; nullopt = a fresh one per run. Virtual-time harnesses
  // set it so that the same jobs and inputs give the same retry delays every time.
  std::optional<uint64_t> jitter_seed{};
  // When a write fails, how long and how often the run retries it (store_outage.h).
  StoreOutagePolicy store_outage;
  StoreHealth* store_health = nullptr;  // not owned; nullptr = nobody is told of outages
  // Takes the writes of a run that gave up waiting for the store; nullptr: they are left for the
  // next start's recovery.
  StoreWriteBehind* write_behind = nullptr;  // not owned
  // For virtual-time test harnesses (petit::testing), which must know when a run has nothing to
  // do until its clock moves (RunIdleState). Called with the run's inbox lock held, on the
  // coordinator's or a posting thread: it must be quick, must not call into the run, move the
  // clock or cancel a run. Empty: not called. When set, only the coordinator drives the run (a
  // worker posts its completion and leaves), so the coordinator's sleep means the run is idle.
  std::function<void(const RunIdleState&)> on_idle;
};

// Ends the error of an attempt given up on that way, so that a host can tell it from others.
inline constexpr std::string_view kAbandonedWorkerNote = "its worker thread was abandoned";

// How many worker threads this process has abandoned so far (RunOptions::cancel_grace). Such a
// thread may still run plugin code: whoever unloads plugins checks this first.
size_t AbandonedWorkerThreads();

// Runs `job` as run `run_id` (or continues it, see RunOptions::resume). Fails without starting
// anything when the job's DAG is not validated, names a task type missing from `runners`, a new
// run is refused admission (kFailedPrecondition, see RunOptions::admitted), or a resumed run
// cannot be reopened (kFailedPrecondition: it has not ended). Otherwise returns the final run
// record, whose status says whether the run succeeded. A write the store refuses (not an outage)
// stops the run and is returned. A store that stops answering is waited for as store_outage.h
// says; past RunOptions::store_outage.limit the run gives up and kUnavailable says what happened
// (the run was never created, or its tasks were cancelled and its records are written when the
// store answers).
Result<RunRecord> ExecuteRun(const Job& job, const RunId& run_id, const TaskRunnerRegistry& runners,
                             StateStore& store, const RunOptions& options);

// Checks that every task's type has a runner; lists every missing one with the task that uses it.
Status CheckTaskTypes(const Job& job, const TaskRunnerRegistry& runners);

// A task whose resources `resources` can never grant, and why.
struct UngrantableTask {
  TaskId task;
  Status why;
};
// Every task of `job` whose resources can never be granted by `resources` (nullptr: no pools), in
// task order. What the host's loader reports per task and CheckTaskResources joins.
std::vector<UngrantableTask> FindUngrantableTasks(const Job& job, const ResourceManager* resources);

// Checks that every task's resources can ever be granted by `resources` (nullptr: no pools).
Status CheckTaskResources(const Job& job, const ResourceManager* resources);

}  // namespace petit

#endif  // PETIT_CORE_EXECUTE_RUN_H_
