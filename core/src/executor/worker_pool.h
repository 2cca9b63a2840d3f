// WorkerPool: the process's worker threads, shared by every run. A worker takes a WorkItem, calls
// its runner and hands the result to the item's run (WorkSink::Complete), which may give it the
// next attempt the run started; it runs that one itself rather than through the queue. A run
// limits its own attempts in flight; the pool starts a thread whenever an item would otherwise
// wait for one, and a thread idle for kIdleThreadLife ends. So runs start no threads of their own,
// and 1,000 one-task runs a second reuse the same few threads.
//
// Ownership: the pool is never destroyed (its threads are detached and may sleep in it at exit).
// A WorkItem borrows its runner from the run's TaskRunnerRegistry and its sink, which stays alive
// until every item it handed out came back through Complete() or was abandoned.
// A worker whose attempt is abandoned (Abandon) leaves the pool; when its runner returns at last
// it ends without touching the pool's other state, the sink or the attempt's control.
// Threads: every member may be called from any thread. Lock order: a worker calls runners and
// sinks with no pool lock held; the pool calls nothing while holding mu_.
#ifndef PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_
#define PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "executor/attempt_control.h"
#include "petit/core/clock.h"
#include "petit/core/dag.h"
#include "petit/core/mutex.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit::internal {

class WorkSink;

// One attempt, ready to run: its state is saved as running before it is handed out.
struct WorkItem {
  Dag::Index index = 0;
  TaskRunner* runner = nullptr;
  AttemptRequest request;
  std::shared_ptr<EngineAttemptControl> control;
  WorkSink* sink = nullptr;  // the run the attempt belongs to
  Clock* clock = nullptr;    // the run's, which times the attempt
};

// Where a worker hands an attempt it ran: its run.
class WorkSink {
 public:
  // On the worker thread, once `item`'s runner returned (never for an abandoned attempt).
  // `started_us`: when the runner was called. May move attempts the run started meanwhile into
  // `next` (empty on entry) for the caller to run or hand on. After it returns the run may be
  // gone: the caller touches nothing of it, `item` aside.
  virtual void Complete(WorkItem& item, AttemptResult result, int64_t started_us,
                        std::vector<WorkItem>& next) = 0;

 protected:
  ~WorkSink() = default;
};

// Every worker abandoned in this process (AbandonedWorkerThreads in execute_run.h).
size_t AbandonedWorkerThreadCount();

class WorkerPool {
 public:
  // How long a thread with nothing to do waits for work before it ends.
  static constexpr std::chrono::seconds kIdleThreadLife{30};

  // The one pool of the process.
  static WorkerPool& Shared();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Hands the items to the workers in order, moving them out of `items`; each is taken up at
  // once, by an idle thread or a new one.
  void Submit(std::vector<WorkItem>& items) EXCLUDES(mu_);
  // Gives up on the worker running attempt `attempt` of task `index` of `sink`: it leaves the
  // pool, will not call Complete, and later items go to other threads. False when no worker runs
  // that attempt any more (its Complete is then under way or done).
  bool Abandon(const WorkSink* sink, Dag::Index index, uint32_t attempt) EXCLUDES(mu_);
  // Threads the pool has now, idle or running attempts (abandoned ones not counted).
  size_t threads() const EXCLUDES(mu_);

 private:
  WorkerPool() = default;

  // What a worker is doing. `phase` decides the race between a runner returning and Abandon.
  struct WorkerState {
    enum Phase : int { kIdle, kRunning, kAbandoned };
    std::atomic<int> phase{kIdle};
    const WorkSink* sink = nullptr;  // written under mu_ before phase becomes kRunning
    Dag::Index index = 0;
    uint32_t attempt = 0;
  };

  void StartThread() REQUIRES(mu_);
  void WorkerLoop(const std::shared_ptr<WorkerState>& state) EXCLUDES(mu_);
  // Waits for an item (spinning a little first); false when the thread's idle life ended.
  bool Take(WorkerState& state, WorkItem& item) EXCLUDES(mu_);
  void RecordRunning(WorkerState& state, const WorkItem& item) REQUIRES(mu_);

  mutable Mutex mu_;
  CondVar work_cv_{mu_};
  std::deque<WorkItem> work_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<WorkerState>> workers_ GUARDED_BY(mu_);
  // Threads waiting for work, spinning or asleep; an item queued beyond them starts a thread.
  size_t idle_ GUARDED_BY(mu_) = 0;
  // A hint read without mu_ while spinning: written under mu_ beside work_, so a stale read only
  // costs a sleep that work_cv_ ends as usual.
  std::atomic<size_t> pending_work_{0};
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_
