// RunInbox: what other threads hand a run's coordinator, and the one place the coordinator waits.
// Workers post attempt completions, whichever thread releases resource slots posts grants, and
// the run's canceller posts the news that the run was cancelled. The coordinator sleeps in Wait()
// until one of them arrives or the clock reaches its next timer (a retry or an attempt's
// deadline); on a virtual clock a move of the clock wakes it (ClockWaiter), so nothing polls.
//
// Threads: Post*() from any thread; Wait() from the coordinator only. Lock order: a virtual
// clock's wake-up lock, then mu_; nothing else is called with mu_ held.
#ifndef PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_
#define PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
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
  explicit RunInbox(Clock& clock) : clock_waiter_(clock, mu_, cv_) {}
  // RunOptions::on_idle; set before any thread posts or waits.
  void SetIdleHook(std::function<void(const RunIdleState&)> hook) { idle_hook_ = std::move(hook); }
  RunInbox(const RunInbox&) = delete;
  RunInbox& operator=(const RunInbox&) = delete;

  void PostCompletion(Completion done) EXCLUDES(mu_);
  void PostGrant(Grant grant) EXCLUDES(mu_);
  // Ends the current or next Wait() early: the run was cancelled (the coordinator asks its
  // canceller what happened).
  void PostCancelled() EXCLUDES(mu_);

  // What Wait() took out of the inbox.
  struct Mail {
    std::deque<Completion> completions;
    std::deque<Grant> grants;
  };

  // Blocks until something was posted or the clock reads `deadline_us` (kNoDeadline: no timer),
  // then takes everything posted into `mail` (whose deques must be empty). With `spin_first`, it
  // looks for mail for a few microseconds before it sleeps (attempts are in flight and an
  // in-process one ends sooner than a sleep would take).
  void Wait(int64_t deadline_us, bool spin_first, Mail& mail) EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar cv_{mu_};
  std::deque<Completion> completions_ GUARDED_BY(mu_);
  std::deque<Grant> grants_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;  // reset by Wait()
  // A hint read without mu_ while spinning: written under mu_ beside the queues, so a stale read
  // only costs a sleep that cv_ ends as usual.
  std::atomic<bool> pending_{false};
  // Called with mu_ held; may be empty.
  void ReportIdle(bool idle, int64_t deadline_us) REQUIRES(mu_) {
    if (idle_hook_) idle_hook_(RunIdleState{idle, deadline_us, completions_posted_});
  }
  std::function<void(const RunIdleState&)> idle_hook_;
  uint64_t completions_posted_ GUARDED_BY(mu_) = 0;
  ClockWaiter clock_waiter_;  // after mu_ and cv_, which it borrows
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_RUN_INBOX_H_
