// RunInbox: what other threads hand a run, and who may drive it. A run's state has one writer at
// a time, its driver: the coordinator (the thread in ExecuteRun), or a worker that has just
// finished one of the run's attempts and found nobody driving, which then settles its attempt
// and starts the next ones itself instead of waking the coordinator (two thread hand-offs per
// attempt otherwise). Workers post attempt completions, whichever thread releases resource slots
// posts grants, and the run's canceller posts the news that the run was cancelled; the driver
// takes them (Take) and, before it gives the role up (Release), anything posted meanwhile. The
// coordinator sleeps in AwaitTurn until something posted finds nobody driving, the clock reaches
// the run's next timer (a retry or an attempt's deadline), or the run is over and no worker holds
// on to it; on a virtual clock a move of the clock wakes it (ClockWaiter), so nothing polls.
//
// The driver role passes under mu_, so each driver sees all that the previous one wrote.
// Threads: Post*() from any thread; Take() and Release() by the driver; AwaitTurn() and Wait()
// by the coordinator, not driving. Lock order: a virtual clock's wake-up lock, then mu_; nothing
// else is called with mu_ held.
#ifndef PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_
#define PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "clock_waiter.h"
#include "petit/core/clock.h"
#include "petit/core/dag.h"
#include "petit/core/execute_run.h"
#include "petit/core/mutex.h"
#include "petit/core/resources.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit::internal {

// One attempt that a worker finished running.
struct Completion {
  Dag::Index index;
  uint32_t attempt;
  AttemptResult result;
  Status storage_status;  // the first failure to store its captured output, outages aside
  std::vector<LogChunk> unwritten_logs;  // captured output an outage kept from the store
  int64_t started_us;
  int64_t ended_us;
};

// Resource slots granted to a task that waited for them.
using Grant = std::pair<Dag::Index, ResourceManager::Lease>;

class RunInbox {
 public:
  // The coordinator holds the driver role from the start.
  explicit RunInbox(Clock& clock) : clock_waiter_(clock, mu_, cv_) {}
  RunInbox(const RunInbox&) = delete;
  RunInbox& operator=(const RunInbox&) = delete;

  // Set before any thread posts or waits. RunOptions::on_idle.
  void SetIdleHook(std::function<void(const RunIdleState&)> hook) { idle_hook_ = std::move(hook); }
  // Whether a worker posting a completion may become the driver (otherwise the coordinator always
  // drives: a virtual-time harness counts on the coordinator's sleep meaning the run is idle).
  void SetWorkersDrive(bool drive) { workers_drive_ = drive; }

  // What Take() and Wait() took out of the inbox.
  // Vectors, swapped with the inbox's: a driver that keeps its Mail reuses their storage.
  struct Mail {
    std::vector<Completion> completions;
    std::vector<Grant> grants;
  };

  // A worker's attempt ended. True: the caller is now the driver, and everything posted, `done`
  // last, is already taken into `mail` (the driver's, whose vectors must be empty), as Take()
  // would; it drives and Releases with `worker_done`. False: the driver or the coordinator takes
  // it, `mail` is untouched, and the caller is done with the run.
  bool PostCompletion(Completion done, Mail& mail) EXCLUDES(mu_);
  void PostGrant(Grant grant) EXCLUDES(mu_);
  // The run was cancelled (the driver asks its canceller what happened).
  void PostCancelled() EXCLUDES(mu_);

  // Driver: takes everything posted into `mail` (whose vectors must be empty).
  void Take(Mail& mail) EXCLUDES(mu_);
  // Driver: gives the role up, unless something was posted since its last Take and the run is not
  // over (false: it drives on). `next_timer_us`: the run's earliest timer (kNoDeadline for none);
  // `over`: the run needs no more driving; `handed_out`: attempts this drive gave to workers,
  // which the run waits for before it ends; `worker_done`: the caller is a worker whose attempt
  // that leaves the run (after a true return it touches nothing of the run).
  bool Release(int64_t next_timer_us, bool over, size_t handed_out, bool worker_done) EXCLUDES(mu_);
  // Coordinator, not driving: blocks until something is posted while nobody drives, or the run's
  // next timer is due, and takes the driver role (true); or until the run is over and every
  // attempt handed out came back (false: the coordinator is the run's only thread again). With
  // `spin_first`, it looks for mail for a few microseconds before it sleeps.
  bool AwaitTurn(bool spin_first) EXCLUDES(mu_);
  // Coordinator, with no worker driving (before the first attempt, or after AwaitTurn returned
  // false): blocks until something was posted or the clock reads `deadline_us` (kNoDeadline: no
  // timer), then takes everything posted into `mail`.
  void Wait(int64_t deadline_us, Mail& mail) EXCLUDES(mu_);
  // Driver: an attempt handed out will not come back (its worker was abandoned).
  void Forget() EXCLUDES(mu_);

 private:
  void TakeLocked(Mail& mail) REQUIRES(mu_);
  bool HasMail() const REQUIRES(mu_) {
    return !completions_.empty() || !grants_.empty() || cancelled_;
  }
  // Called with mu_ held; may be empty.
  void ReportIdle(bool idle, int64_t deadline_us) REQUIRES(mu_) {
    if (idle_hook_) idle_hook_(RunIdleState{idle, deadline_us, completions_posted_});
  }

  // Before the coordinator sleeps, the time it wakes at by itself; a Release with an earlier
  // timer wakes it. kNotSleeping: no Release needs to.
  static constexpr int64_t kNotSleeping = std::numeric_limits<int64_t>::min();

  Mutex mu_;
  CondVar cv_{mu_};  // only the coordinator waits on it
  std::vector<Completion> completions_ GUARDED_BY(mu_);
  std::vector<Grant> grants_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;  // reset by Take() and Wait()
  bool driving_ GUARDED_BY(mu_) = true;
  bool over_ GUARDED_BY(mu_) = false;
  int64_t next_timer_us_ GUARDED_BY(mu_) = kNoDeadline;
  size_t outstanding_ GUARDED_BY(mu_) = 0;  // attempts handed out and not back yet
  int64_t sleeping_until_ GUARDED_BY(mu_) = kNotSleeping;
  bool wake_on_release_ GUARDED_BY(mu_) = false;  // the coordinator waits for the role
  // A hint read without mu_ while spinning: written under mu_ beside the queues, so a stale read
  // only costs a sleep that cv_ ends as usual.
  std::atomic<bool> pending_{false};
  bool workers_drive_ = true;
  std::function<void(const RunIdleState&)> idle_hook_;
  uint64_t completions_posted_ GUARDED_BY(mu_) = 0;
  ClockWaiter clock_waiter_;  // after mu_ and cv_, which it borrows
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_
