// WorkerPool: the threads that run a run's attempts. Each worker takes a WorkItem, calls its
// runner, flushes the attempt's captured output, and posts the Completion to the run's inbox.
//
// Ownership: the pool borrows the clock and the inbox, which outlive it; a WorkItem borrows its
// runner from the run's TaskRunnerRegistry.
// A worker whose attempt is abandoned (Abandon) is detached and replaced; when its runner returns
// at last it ends without touching the pool, the inbox or the attempt's control, all of which
// may be gone by then.
// Threads: Start(), Submit(), Abandon() and Stop() are called by the run's coordinator only. Lock
// order: mu_ is never held while calling a runner, the store or the inbox.
#ifndef PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_
#define PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "executor/attempt_control.h"
#include "executor/run_inbox.h"
#include "petit/core/clock.h"
#include "petit/core/dag.h"
#include "petit/core/mutex.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit::internal {

// One attempt, ready to run: its state is saved as running before it is submitted.
struct WorkItem {
  Dag::Index index;
  TaskRunner* runner;
  AttemptRequest request;
  std::shared_ptr<EngineAttemptControl> control;
};

// Every worker any pool abandoned in this process (AbandonedWorkerThreads in execute_run.h).
size_t AbandonedWorkerThreadCount();

class WorkerPool {
 public:
  WorkerPool(Clock& clock, RunInbox& inbox) : clock_(clock), inbox_(inbox) {}
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start(uint32_t threads);
  // Hands the items to the workers in order, moving them out of `items`.
  void Submit(std::vector<WorkItem>& items) EXCLUDES(mu_);
  // Lets the workers run every item already submitted, then joins them. Idempotent.
  void Stop() EXCLUDES(mu_);
  // Gives up on the worker running attempt `attempt` of task `index`: it is detached, will post
  // no completion, and a new worker replaces it. False when no worker runs that attempt any more
  // (its completion is then on its way as usual).
  bool Abandon(Dag::Index index, uint32_t attempt) EXCLUDES(mu_);

 private:
  // What a worker is doing, shared with the worker itself so that an abandoned one needs nothing
  // else. `phase` decides the race between a runner returning and the coordinator giving up.
  struct WorkerState {
    enum Phase : int { kIdle, kRunning, kAbandoned };
    std::atomic<int> phase{kIdle};
    Dag::Index index = 0;  // written under mu_ before phase becomes kRunning
    uint32_t attempt = 0;
  };
  struct Worker {
    std::thread thread;
    std::shared_ptr<WorkerState> state;
  };

  void StartWorker();
  void WorkerLoop(const std::shared_ptr<WorkerState>& state) EXCLUDES(mu_);

  Clock& clock_;
  RunInbox& inbox_;
  std::vector<Worker> workers_;  // coordinator thread only; their states are read under mu_

  Mutex mu_;
  CondVar work_cv_{mu_};
  std::deque<WorkItem> work_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  // A hint read without mu_ while spinning: written under mu_ beside work_, so a stale read only
  // costs a sleep that work_cv_ ends as usual.
  std::atomic<size_t> pending_work_{0};
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_WORKER_POOL_H_
